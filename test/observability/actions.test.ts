// Billable actions counted from a run's own history (observability/actions.ts), and by the run
// itself (workflows/interceptors/run-cost.ts), against the Temporal server's own count (its `action`
// metric, which matches Temporal Cloud's metering): a dev server of this test's own, so no other
// suite's runs move the counter, and one training run alone on it.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { sendDataReady } from '../../client/training';
import { costReport, runCost, type CostReport, type RunCostReport } from '../../client/cost';
import { costLine, type RunCost } from '../../contracts/cost';
import { pricesOnce } from '../../config/prices';
import { countActions } from '../../observability/actions';
import { freePort, type Service } from '../../stack/process';
import { startTemporalDevServer, type TemporalDevServer } from '../../stack/temporal-server';
import { readToolPaths } from '../../stack/tools';
import { uniquePartition } from '../helpers/isolation';
import { customJobTraining, monthlyData, projectWith } from '../helpers/pipelines';
import { uniqueId } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { emulatorControl } from '../helpers/vertex';
import { startWorkerProcess } from '../helpers/worker-process';
import { testStack } from '../setup/test-stack';
import { expectWithinMicros } from '../helpers/micros';

jest.setTimeout(180_000);

const env = testStack();
// `churn`: a data-ready for creator_activity starts it; one n1-standard-8 CustomJob, priced below.
const iso = projectWith({
  churn: {
    data: monthlyData(['creator_activity']),
    training: { ...customJobTraining, workerPoolSpecs: [{ machineType: 'n1-standard-8', imageUri: 'img' }] },
  },
});
// The config's namespace, on a server of this test's own, so `ct cost` finds the run as configured.
const namespace = iso.config.pipelines.churn!.environments.staging!.temporal.namespace;
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
  const result = (await handle.result()) as {
    status: string;
    timings: { jobStartedAt: string; jobEndedAt: string };
    cost: RunCost;
  };
  expect(result.status).toBe('succeeded');
  const history = await handle.fetchHistory();
  const counted = countActions(history.events ?? []);
  // The server's metrics reach its endpoint at its reporter's flush, not at once: read until the
  // count reaches the history's or 10 s pass (a count that never matches still fails below).
  let after = await serverActions();
  for (let i = 0; i < 20 && total(after) - total(before) < counted.total; i++) {
    await new Promise((r) => setTimeout(r, 500));
    after = await serverActions();
  }
  // Anything still arriving would be counted too much: one more read a flush later.
  await new Promise((r) => setTimeout(r, 1500));
  after = await serverActions();
  const measured = Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
      .filter(([, v]) => v !== 0),
  );
  console.log(JSON.stringify({ counted, measured }));
  expect(counted.byKind).toMatchObject({ start: 1, update: 1 });
  expect(counted.byKind['activity-attempt']).toBeGreaterThan(4);
  expect(counted.total).toBe(total(measured));

  // What it cost: the same count, and the CustomJob's n1-standard-8 × 1 for its running time at the table's price.
  const prices = pricesOnce();
  const cost = await runCost(client, handle.workflowId, prices);
  expect(cost.actions).toEqual(counted);
  expect(cost.temporalUsd).toBeCloseTo((counted.total * 50) / 1e6, 9);
  expect(cost.vertex.jobs).toHaveLength(1);
  const [job] = cost.vertex.jobs;
  expect(job).toMatchObject({ kind: 'customJob', state: 'SUCCEEDED', how: '1 × n1-standard-8' });
  // Vertex's own start and end times of the job, as the run's result reports them.
  const ran = (Date.parse(result.timings.jobEndedAt) - Date.parse(result.timings.jobStartedAt)) / 3_600_000;
  expect(ran).toBeGreaterThan(6 / 3600);
  expectWithinMicros(job!.hours, ran);
  expect(job!.usd).toBeCloseTo(0.437 * job!.hours, 5);

  // The run's own count (workflows/interceptors/run-cost.ts), in its result, its status query and
  // its current details: every retry here is a watch hand-over, which the watch reports, so the
  // count is the history's, and the Vertex estimate is the one `ct cost` makes from history.
  expect(result.cost.actions).toEqual(counted);
  expect(result.cost.vertex).toEqual(cost.vertex);
  expect(result.cost).toMatchObject({ temporalUsd: cost.temporalUsd, totalUsd: cost.totalUsd, asOf: prices.asOf });
  const queried = await handle.query<{ phase: string; cost: RunCost }>('status');
  // The query is answered after the run ended: the same figures (the completion added no action).
  expect(queried.cost).toEqual(result.cost);
  const meta = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
  expect(meta.currentDetails).toMatch(/^\*\*Trained\*\*/);
  expect(meta.currentDetails.endsWith(`\n\n${costLine(result.cost)}`)).toBe(true);

  // `ct cost`, one run and the week's closed runs by pipeline (visibility lags: polled).
  const ct = async (...args: string[]): Promise<unknown> => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(__dirname, '..', '..', 'bin', 'ct.cjs'), '--config', iso.configPath, '--json', 'cost', ...args],
      { env: { ...process.env, TEMPORAL_ADDRESS: server!.address } },
    );
    return JSON.parse(stdout);
  };
  expect(await ct('--env', 'staging', '--id', handle.workflowId)).toEqual(
    JSON.parse(JSON.stringify(cost)) as RunCostReport,
  );
  const week = await eventually(async () => {
    const r = (await ct('--env', 'staging', '--since', '7d')) as CostReport;
    return r.groups.length ? r : undefined;
  }, 30_000);
  expect(week.groups).toEqual([
    {
      kind: 'training',
      pipeline: 'churn',
      environment: 'staging',
      runs: 1,
      actions: counted.total,
      temporalUsd: cost.temporalUsd,
      vertexUsd: cost.vertex.usd,
      totalUsd: cost.totalUsd,
      meanUsd: cost.totalUsd,
    },
  ]);
  expect(
    await costReport(
      client,
      { since: new Date(Date.now() - 3_600_000), environment: 'staging', pipeline: 'engagement' },
      prices,
    ),
  ).toMatchObject({ groups: [] });
  // Bad input is refused naming the option, and what the config has.
  const refused = (await ct('--env', 'nowhere').catch((err: { code: number; stderr: string }) => err)) as {
    code: number;
    stderr: string;
  };
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/--env: environment \\"nowhere\\" is not in the config; it has: .*staging/);
});
