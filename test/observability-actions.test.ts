// Billable actions counted from a run's own history (observability/actions.ts) against the Temporal
// server's own count (its `action` metric, which matches Temporal Cloud's metering): a dev server of
// this test's own, so no other suite's runs move the counter, and one training run alone on it.
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { sendDataReady } from '../client/training';
import { countActions } from '../observability/actions';
import { freePort, type Service } from '../scripts/stack/process';
import { startTemporalDevServer, type TemporalDevServer } from '../scripts/stack/temporal-server';
import { readToolPaths } from '../scripts/stack/tools';
import { isolatedProject, uniquePartition } from './helpers/isolation';
import { uniqueId } from './helpers/temporal';
import { emulatorControl } from './helpers/vertex';
import { startWorkerProcess } from './helpers/worker-process';
import { testStack } from './setup/test-stack';

jest.setTimeout(180_000);

const env = testStack();
const iso = isolatedProject();
const namespace = 'ct-actions';
let server: TemporalDevServer | undefined;
let worker: Service | undefined;
let connection: Connection | undefined;

afterAll(async () => {
  await worker?.stop();
  await connection?.close();
  await server?.service.stop();
  await iso.cleanup();
});

/** The server's count of billable actions in the namespace, by action type. */
async function serverActions(): Promise<Record<string, number>> {
  const text = await (await fetch(server!.metricsUrl)).text();
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^action\{([^}]*)\} ([0-9.e+]+)$/.exec(line);
    // The server's metric labels spell the namespace with `_` for `-`.
    if (!m || !m[1]!.includes(`namespace="${namespace.replace(/-/g, '_')}"`)) continue;
    const type = /action_type="([^"]+)"/.exec(m[1]!)?.[1] ?? '?';
    counts[type] = (counts[type] ?? 0) + Number(m[2]);
  }
  return counts;
}
const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);

test('a training run: the actions counted from its history equal the server’s action counter', async () => {
  const [port, httpPort, metricsPort] = await Promise.all([freePort(), freePort(), freePort()]);
  server = await startTemporalDevServer({
    binary: readToolPaths().temporal,
    ip: '127.0.0.1',
    port,
    httpPort,
    metricsPort,
    namespace,
    logFile: path.join(env.CT_TEST_TMP_DIR, `${namespace}-${port}.log`),
  });
  const taskQueue = uniqueId('tq-actions');
  worker = await startWorkerProcess({ taskQueue, address: server.address, namespace, configPath: iso.configPath });
  connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace });
  const before = await serverActions();

  // Started by data-ready (update-with-start); its job runs past two 3-second watch chunks, so the
  // watch activity is retried (each retry an action the history records only as the last attempt).
  await emulatorControl().addRule({
    match: { project: iso.project, kind: 'customJob' },
    script: { outcome: 'SUCCEEDED', runningMs: 7_000 },
  });
  const report = await sendDataReady(
    client,
    iso.config,
    { environment: 'staging', dataset: 'creator_activity', partition: uniquePartition('monthly') },
    { taskQueue },
  );
  const handle = client.workflow.getHandle(report.reached[0]!.workflowId);
  expect(await handle.result()).toMatchObject({ status: 'succeeded' });
  const history = await handle.fetchHistory();
  const counted = countActions(history.events ?? []);
  // The server counts as it goes: wait until its count stops moving.
  let after = await serverActions();
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const now = await serverActions();
    if (total(now) === total(after)) break;
    after = now;
  }
  const measured = Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
      .filter(([, v]) => v !== 0),
  );
  console.log(JSON.stringify({ counted, measured }));
  expect(counted.byKind).toMatchObject({ start: 1, update: 1 });
  expect(counted.byKind['activity-attempt']).toBeGreaterThan(4);
  expect(counted.total).toBe(total(measured));
});
