// Reconciling many schedules: P pipelines × 2 schedules synced into a fresh dev server. Prints JSON:
// time and writes of the first sync (all creates) and of a no-op sync (the same config again).
//   npm run bench:schedules [-- --pipelines 500]
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { applySync, planSync } from '../client/schedules/sync';
import { parseConfig } from '../config/load-config';
import { freePort } from '../scripts/stack/process';
import { startTemporalDevServer } from '../scripts/stack/temporal-server';
import { readToolPaths } from '../scripts/stack/tools';

const { values } = parseArgs({ options: { pipelines: { type: 'string', default: '500' } } });
const P = Number(values.pipelines);

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ct-bench-sched-'));
  const server = await startTemporalDevServer({
    binary: readToolPaths().temporal,
    ip: '127.0.0.1',
    port: await freePort(),
    httpPort: await freePort(),
    metricsPort: await freePort(),
    namespace: 'ct-bench',
    logFile: path.join(tmp, 'temporal.log'),
  });
  const pipelines: Record<string, unknown> = {};
  for (let i = 0; i < P; i++) {
    pipelines[`p${i}`] = {
      environments: {
        prod: {
          project: 'ct-bench-project',
          region: 'us-central1',
          serviceAccount: 'sa@ct-bench-project.iam.gserviceaccount.com',
          pipelineRoot: 'gs://ct-bench/root',
          temporal: { namespace: 'ct-bench', taskQueue: 'bench' },
        },
      },
      data: { partition: 'daily', datasets: ['d'], timeout: '1d' },
      training: {
        kind: 'customJob',
        workerPoolSpecs: [{ machineType: 'n1-standard-4', imageUri: 'img' }],
        baseOutputDirectory: 'gs://ct-bench/out',
      },
      schedules: {
        nightly: { action: 'training', cron: `${i % 60} 3 * * *`, timezone: 'Asia/Tokyo' },
        weekly: {
          action: 'training',
          calendar: { hour: [5], minute: [i % 60], dayOfWeek: ['SUNDAY'] },
          paused: { note: 'off until Q1' },
        },
      },
    };
  }
  const config = parseConfig(JSON.stringify({ version: 1, pipelines }), 'bench config');
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: 'ct-bench' });
  const timed = async () => {
    const t0 = performance.now();
    const plan = await planSync(client, config, 'prod');
    const writes = await applySync(client, plan);
    return { ms: Math.round(performance.now() - t0), writes, planned: plan.entries.length, unchanged: plan.unchanged };
  };
  const first = await timed();
  // The server's schedule list is eventually consistent: wait until it lists every schedule.
  for (let n = 0; n < 2 * P;) {
    n = 0;
    for await (const _ of client.schedule.list()) n++;
    if (n < 2 * P) await new Promise((r) => setTimeout(r, 500));
  }
  const noop = await timed();
  console.log(
    JSON.stringify(
      {
        bench: 'schedules-sync',
        pipelines: P,
        schedules: 2 * P,
        firstSync: first,
        noopSync: noop,
        targets: { firstSyncMsMax: 10_000, noopSyncMsMax: 2_000, noopWrites: 0 },
        node: process.version,
      },
      null,
      2,
    ),
  );
  await connection.close();
  await server.service.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
