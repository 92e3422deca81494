// The flag watch at many prefixes: P datasets, each with its own `_SUCCESS` folder
// (gs://bench-flags/warehouse/t{i}/{partition}/_SUCCESS: P prefixes in one listing group), `history`
// days of old flags already there, the compiled worker at the production interval. Today's flag of
// every dataset is then written, spread over `minutes`, as DAGs finishing one after another would;
// then nothing happens for `idle` minutes. Prints JSON: Cloud Storage list requests per minute
// (the worker's ct_flag_list_requests) while flags arrive and while idle, against a poll per prefix
// at the same interval; the lag from each flag's timeCreated to its run knowing the dataset is
// ready (p50/p99/max, from the run's own status); the server's actions; the watch's history.
//   npm run bench:flags [-- --prefixes 500 --history 7 --minutes 3 --idle 1 --interval-ms 30000]
import { parseArgs } from 'node:util';
import { parseConfig } from '../config/load-config';
import {
  flagWatchId,
  flagWatchQuery,
  partitionAt,
  trainingRunId,
  trainingStatusQuery,
  type FlagWatchStatus,
} from '../contracts';
import { freePort } from '../stack/process';
import { benchCustomJob, benchEnvironment, percentile, runBench, serverActions, startBenchStack } from './stack';

const { values } = parseArgs({
  options: {
    prefixes: { type: 'string', default: '500' },
    history: { type: 'string', default: '7' },
    minutes: { type: 'string', default: '3' },
    idle: { type: 'string', default: '1' },
    'interval-ms': { type: 'string', default: '30000' },
  },
});
const P = Number(values.prefixes);
const HISTORY = Number(values.history);
const MINUTES = Number(values.minutes);
const IDLE = Number(values.idle);
const INTERVAL = Number(values['interval-ms']);
const BUCKET = 'bench-flags';
const ENV = 'prod';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` over `items`, `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

async function main() {
  const stack = await startBenchStack();
  const { client, storage, temporal } = stack;
  await storage.createBucket(BUCKET);
  const pipelines: Record<string, unknown> = {};
  for (let i = 0; i < P; i++)
    pipelines[`t${i}`] = {
      environments: { [ENV]: benchEnvironment },
      // `features` never comes: each run waits, holding nothing, once its flag has reached it.
      data: {
        partition: 'daily',
        datasets: [`t${i}`, 'features'],
        timeout: '1d',
        flags: { [`t${i}`]: { flag: `gs://${BUCKET}/warehouse/t${i}/{partition}/_SUCCESS` } },
      },
      training: benchCustomJob,
    };
  const configText = JSON.stringify({ version: 1, pipelines });
  parseConfig(configText, 'bench config');
  const today = partitionAt(new Date(), 'daily', 0, 'UTC');
  const day = (offset: number) => partitionAt(new Date(), 'daily', offset, 'UTC');

  // The history every DAG left behind before the watch existed.
  const seeded = Date.now();
  const old = Array.from({ length: P }, (_, i) =>
    Array.from({ length: HISTORY }, (_, d) => [i, d + 1] as const),
  ).flat();
  await pool(old, 32, async ([i, d]) => {
    await storage
      .bucket(BUCKET)
      .file(`warehouse/t${i}/${day(-d)}/_SUCCESS`)
      .save('', { resumable: false });
  });
  const seedSeconds = (Date.now() - seeded) / 1000;

  const metricsAddress = `127.0.0.1:${await freePort()}`;
  const worker = await stack.startWorkerProcess(configText, {
    CT_FLAG_WATCH_INTERVAL_MS: String(INTERVAL),
    CT_METRICS_ADDRESS: metricsAddress,
  });
  const watch = client.workflow.getHandle(flagWatchId(ENV, BUCKET));
  const status = () => watch.query(flagWatchQuery);
  const until = async <T>(check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await check().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error('the flag watch did not get there in time');
      await sleep(500);
    }
  };
  // The first listing has seen the history (as history: nothing delivered).
  await until(async () => ((await status()).listing ? true : undefined), 2 * INTERVAL + 60_000);
  const listRequests = async () => {
    const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith('ct_flag_list_requests{'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  };

  // Today's flags, one after another over the measured minutes.
  const written: { i: number; at: number }[] = [];
  const reads0 = await listRequests();
  const actions0 = await serverActions(temporal.metricsUrl);
  const t0 = Date.now();
  const gap = (MINUTES * 60_000) / P;
  for (let i = 0; i < P; i++) {
    const due = t0 + i * gap;
    if (due > Date.now()) await sleep(due - Date.now());
    const file = storage.bucket(BUCKET).file(`warehouse/t${i}/${today}/_SUCCESS`);
    await file.save('', { resumable: false });
    written.push({ i, at: Date.parse(String(file.metadata.timeCreated)) });
  }
  const delivered = await until(
    async () => {
      const s = await status();
      return s.counts.delivered >= P ? s : undefined;
    },
    3 * INTERVAL + 120_000,
  );
  const t1 = Date.now();
  const reads1 = await listRequests();
  const actions1 = await serverActions(temporal.metricsUrl);

  // Idle: every flag delivered, nothing new.
  await sleep(IDLE * 60_000);
  const t2 = Date.now();
  const reads2 = await listRequests();
  const actions2 = await serverActions(temporal.metricsUrl);

  // Each flag's lag: from its timeCreated to its run's record of the dataset.
  const lags: number[] = [];
  await pool(written, 16, async ({ i, at }) => {
    const run = client.workflow.getHandle(trainingRunId({ environment: ENV, pipeline: `t${i}`, partition: today }));
    const s = await run.query(trainingStatusQuery);
    const ready = s.datasets.find((d) => d.dataset === `t${i}`);
    if (ready?.at) lags.push(Date.parse(ready.at) - at);
  });
  lags.sort((a, b) => a - b);
  const final: FlagWatchStatus = await status();
  const described = await watch.describe();
  await worker.service.stop();
  await stack.close();

  const perMinute = (n: number, ms: number) => Math.round((n / ms) * 60_000 * 10) / 10;
  return {
    prefixes: P,
    historyFlagsPerPrefix: HISTORY,
    objectsListed: final.listing?.objects,
    pagesPerListing: final.listing?.pages,
    listingGroups: final.listing?.groups,
    intervalMs: INTERVAL,
    seedSeconds: Math.round(seedSeconds),
    arriving: {
      minutes: Math.round(((t1 - t0) / 60_000) * 10) / 10,
      listRequestsPerMinute: perMinute(reads1 - reads0, t1 - t0),
      actions: actions1 - actions0,
    },
    idle: {
      minutes: Math.round(((t2 - t1) / 60_000) * 10) / 10,
      listRequestsPerMinute: perMinute(reads2 - reads1, t2 - t1),
      actions: actions2 - actions1,
    },
    /** What a poll per prefix (a List or a Get of each prefix per interval) would read. */
    perPrefixPollRequestsPerMinute: Math.round((P * 60_000) / INTERVAL),
    delivered: delivered.counts.delivered,
    refused: final.counts.refused,
    rewritten: final.counts.rewritten,
    lagMs: {
      n: lags.length,
      p50: percentile(lags, 0.5),
      p99: percentile(lags, 0.99),
      max: lags.at(-1) ?? null,
    },
    watch: { historyLength: described.historyLength, historySize: described.historySize, ledger: final.delivered },
  };
}

runBench('flag-watch', main);
