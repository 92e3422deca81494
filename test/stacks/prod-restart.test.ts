// `npm run stack:prod` as an operator runs it, keeping on when one of its services dies: the
// worker whose activity watches a running training job, then the Temporal server, are SIGKILLed;
// the stack restarts each (reported as [restart]) while every other process keeps its pid, and the
// run finishes with one Vertex job. The data folder is mktemp's 0700, as a clone in root's home
// would be, which PostgreSQL (run as the postgres user under root) cannot enter.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startTrainingRun } from '../../client/training';
import { parseConfig } from '../../config/load-config';
import { trainingStatusQuery } from '../../contracts';
import { VertexEmulatorControl } from '../../emulators/vertex-ai/control-client';
import { recentPollers } from '../../stack/pollers';
import { processAlive } from '../../stack/lock';
import { prodStackEnv, startProdStack, type ProdRun } from '../helpers/prod-stack';
import { uniquePartition } from '../helpers/isolation';
import { eventually } from '../helpers/eventually';
import { uniqueProject } from '../helpers/vertex';

jest.setTimeout(600_000);

const NAMESPACE = 'ct-coordinator';
const project = uniqueProject();
// One CustomJob pipeline in a project of the test's own; a watch hands over every 3 s, so a dead
// worker's attempt is retried 33 s after it started (its startToClose: the chunk + 30 s).
const configText = JSON.stringify({
  version: 1,
  pipelines: {
    'restart-probe': {
      environments: {
        staging: {
          project,
          region: 'us-central1',
          serviceAccount: `ct-trainer@${project}.iam.gserviceaccount.com`,
          pipelineRoot: 'gs://ct-restart-test/root',
        },
      },
      data: { partition: 'daily', datasets: ['probe_data'], timeout: '1h' },
      training: {
        kind: 'customJob',
        workerPoolSpecs: [{ machineType: 'n1-standard-4', imageUri: 'img' }],
        baseOutputDirectory: 'gs://ct-restart-test/custom/{pipeline}/{partition}',
      },
      polling: { interval: '100ms', chunk: '3s' },
    },
  },
});

let env: Record<string, string>;
let run: ProdRun;
let connection: Connection;
let client: Client;
let control: VertexEmulatorControl;
const config = parseConfig(configText, 'restart-probe.json');

beforeAll(async () => {
  env = await prodStackEnv({ privateDataDir: true });
  const configDir = mkdtempSync(path.join(os.tmpdir(), 'ct-restart-config-'));
  env.CT_CONFIG = path.join(configDir, 'pipelines.json');
  writeFileSync(env.CT_CONFIG, configText);
  run = startProdStack(env);
  await run.banner();
  connection = await Connection.connect({ address: `127.0.0.1:${env.TEMPORAL_PORT}` });
  client = new Client({ connection, namespace: NAMESPACE });
  control = new VertexEmulatorControl(`http://127.0.0.1:${env.VERTEX_EMULATOR_CONTROL_PORT}`);
}, 300_000);

afterAll(async () => {
  await connection?.close();
  if (run) {
    expect(await run.ctrlC()).toBe('0');
    expect(run.output()).toContain('stopped; nothing left running.');
  }
  const moved = path.join(env.CT_DATA_DIR!, 'prod', 'postgres', 'cluster-location');
  if (existsSync(moved)) rmSync(path.dirname(readFileSync(moved, 'utf8').split('\n')[0]!), { recursive: true });
}, 120_000);

/** Every process the stack runs now, by name, from its lock file and /proc. */
function stackProcesses(): Map<number, string> {
  const lock = JSON.parse(readFileSync(path.join(env.CT_DATA_DIR!, 'prod', 'stack.lock'), 'utf8')) as {
    servicePids: number[];
  };
  return new Map(
    lock.servicePids
      .filter(processAlive)
      .map((pid) => [pid, readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')]),
  );
}

/** A training run whose Vertex job the emulator holds RUNNING, once the run watches it. */
async function startHeldRun() {
  const partition = uniquePartition();
  await control.addRule({
    match: { project, labels: { 'ct-partition': partition } },
    script: { holdIn: 'RUNNING' },
  });
  const handle = await startTrainingRun(client, config, {
    pipeline: 'restart-probe',
    environment: 'staging',
    partition,
    assumeDataReady: true,
  });
  const job = await eventually(async () => {
    const s = await handle.query(trainingStatusQuery);
    return s.phase === 'running' ? s.job : undefined;
  }, 60_000);
  return { partition, handle, job };
}

/** The run ends succeeded on its first attempt, and Vertex saw exactly one job for its partition. */
async function expectOneJobSucceeded(held: Awaited<ReturnType<typeof startHeldRun>>) {
  await control.advance(held.job.name);
  // The client's connection may still be finding a restarted server: keep asking.
  const result = await eventually(() => held.handle.result().catch(() => undefined), 180_000);
  expect(result).toMatchObject({ status: 'succeeded', attempts: 1, job: { name: held.job.name } });
  expect(await control.jobs({ project, labels: { 'ct-partition': held.partition } })).toHaveLength(1);
}

test('stack:prod in a 0700 data folder: PostgreSQL keeps its cluster where the postgres user can reach it', () => {
  if (process.getuid?.() !== 0) return; // only root runs PostgreSQL as another user
  expect(run.output()).toMatch(
    /cluster in \S+\/ct-coordinator\/[0-9a-f]{16}\/cluster \(the postgres user cannot enter /,
  );
});

test('stack:prod: the worker watching a running job is SIGKILLed, restarted alone, and the run ends with one Vertex job', async () => {
  const held = await startHeldRun();
  const watcher = await eventually(async () => {
    const pending = (await held.handle.describe()).raw.pendingActivities ?? [];
    const identity = pending.find((a) => a.activityType?.name === 'awaitTrainingJob')?.lastWorkerIdentity;
    return identity ? Number(identity.split('@')[0]) : undefined;
  }, 60_000);
  const before = stackProcesses();
  expect(before.get(watcher)).toMatch(/dist\/workers\/main\.js/);
  const killedAt = Date.now();
  process.kill(watcher, 'SIGKILL');

  const report = await eventually(
    () =>
      new RegExp(`\\[restart\\] \\S+ (worker-\\d+) \\(pid ${watcher}\\) exited unexpectedly \\(signal SIGKILL\\)`).exec(
        run.output(),
      ) ?? undefined,
    30_000,
  );
  const back = await eventually(
    () => new RegExp(`\\[restart\\] \\S+ ${report[1]} is back \\(pid (\\d+)`).exec(run.output()) ?? undefined,
    150_000,
  );
  const newPid = Number(back[1]);
  console.log(`${report[1]} back ${((Date.now() - killedAt) / 1000).toFixed(1)}s after the SIGKILL`);
  const polling = await recentPollers(`127.0.0.1:${env.TEMPORAL_PORT}`, NAMESPACE, 'ct-coordinator');
  expect(polling.some((id) => id.startsWith(`${newPid}@`))).toBe(true);

  await expectOneJobSucceeded(held);
  console.log(`run ended ${((Date.now() - killedAt) / 1000).toFixed(1)}s after the SIGKILL`);
  // Nothing else stopped: every other process of the stack has the pid it had, and the stack runs on.
  const others = [...before.keys()].filter((pid) => pid !== watcher);
  expect(others.filter((pid) => !processAlive(pid))).toEqual([]);
  expect(run.child.exitCode).toBeNull();
});

test('stack:prod: the Temporal server SIGKILLed mid-run is restarted, workers and PostgreSQL untouched, one Vertex job', async () => {
  const held = await startHeldRun();
  const before = stackProcesses();
  const [server] = [...before].find(([, cmd]) => /temporal-server --config-file/.test(cmd)) ?? [];
  expect(server).toBeDefined();
  const killedAt = Date.now();
  process.kill(server!, 'SIGKILL');

  await eventually(
    () =>
      new RegExp(`\\[restart\\] \\S+ temporal \\(pid ${server}\\) exited unexpectedly \\(signal SIGKILL\\)`).exec(
        run.output(),
      ) ?? undefined,
    30_000,
  );
  await eventually(() => /\[restart\] \S+ temporal is back \(pid \d+/.exec(run.output()) ?? undefined, 180_000);
  console.log(`temporal back ${((Date.now() - killedAt) / 1000).toFixed(1)}s after the SIGKILL`);

  await expectOneJobSucceeded(held);
  console.log(`run ended ${((Date.now() - killedAt) / 1000).toFixed(1)}s after the SIGKILL`);
  const others = [...before.keys()].filter((pid) => pid !== server);
  expect(others.filter((pid) => !processAlive(pid)).map((pid) => before.get(pid))).toEqual([]);
  expect(run.child.exitCode).toBeNull();
});
