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
import { benchCustomJob, benchEnvironment, runBench, startBenchTemporal } from './stack';

const { values } = parseArgs({ options: { pipelines: { type: 'string', default: '500' } } });
const P = Number(values.pipelines);

async function main() {
  const server = await startBenchTemporal(mkdtempSync(path.join(os.tmpdir(), 'ct-bench-sched-')));
  const pipelines: Record<string, unknown> = {};
  for (let i = 0; i < P; i++) {
    pipelines[`p${i}`] = {
      environments: { prod: benchEnvironment },
      data: { partition: 'daily', datasets: ['d'], timeout: '1d' },
      training: benchCustomJob,
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
  await connection.close();
  await server.service.stop();
  return {
    pipelines: P,
    schedules: 2 * P,
    firstSync: first,
    noopSync: noop,
    targets: { firstSyncMsMax: 10_000, noopSyncMsMax: 2_000, noopWrites: 0 },
  };
}

runBench('schedules-sync', main);
