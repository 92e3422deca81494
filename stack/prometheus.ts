import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import { freePort, httpOk, Service, waitUntilReady } from './process';

// A real Prometheus (Debian's package, scripts/prometheus.sh) with a config and a data folder of its
// own on a free port: what the observability suites scrape the worker and the Temporal server with.

export const prometheusBinary = () => process.env.CT_PROMETHEUS_PATH ?? '/usr/bin/prometheus';
export const promtoolBinary = () => process.env.CT_PROMTOOL_PATH ?? '/usr/bin/promtool';

const QueryResponse = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.string(),
    result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) })),
  }),
});
export type Sample = { metric: Record<string, string>; value: number };

export interface Prometheus {
  url: string;
  /** An instant query through the HTTP API: each series with its value. */
  query(promql: string): Promise<Sample[]>;
  /** Every metric name Prometheus has stored. */
  metricNames(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(opts: {
  /** job name → host:port targets */
  jobs: Record<string, string[]>;
  scrapeIntervalMs?: number;
  ruleFiles?: string[];
  dir?: string;
}): Promise<Prometheus> {
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'ct-prometheus-'));
  const interval = `${opts.scrapeIntervalMs ?? 1000}ms`;
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval },
    rule_files: opts.ruleFiles ?? [],
    scrape_configs: Object.entries(opts.jobs).map(([job, targets]) => ({
      job_name: job,
      static_configs: [{ targets }],
    })),
  };
  const configFile = path.join(dir, 'prometheus.yml');
  writeFileSync(configFile, stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const service = Service.start({
    name: 'prometheus',
    command: prometheusBinary(),
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
    ],
    logFile: path.join(dir, 'prometheus.log'),
  });
  await waitUntilReady(service, () => httpOk(`${url}/-/ready`), 60_000);
  const query = async (promql: string): Promise<Sample[]> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    if (!res.ok) throw new Error(`prometheus query ${promql}: HTTP ${res.status} ${await res.text()}`);
    const body = QueryResponse.parse(await res.json());
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };
  return {
    url,
    query,
    metricNames: async () => {
      const res = await fetch(`${url}/api/v1/label/__name__/values`);
      return z.object({ data: z.array(z.string()) }).parse(await res.json()).data;
    },
    stop: () => service.stop(),
  };
}
