// Airflow's side of data-ready, end to end: the real Airflow 3 (the venv scripts/airflow/setup.sh
// builds) runs the example DAG with `airflow dags test`; its CtDataReadyOperator tasks execute
// routeDataReady through the Temporal Python SDK on a real worker, and the training runs they
// reached are checked through Temporal. Each test uses a partition of its own (the DAG run's
// logical date, so the operator's default `{{ ds }}` is what gets signalled).
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { WorkflowNotFoundError } from '@temporalio/client';
import { routeDataReadyId, trainingRunId, trainingStatusQuery, type DataReadyReport } from '../../contracts';
import type { routeDataReady, trainingRun } from '../../workflows';
import { uniqueId, withWorker, type WorkerContext } from '../helpers/temporal';
import { uniquePartition } from '../helpers/isolation';
import { kfpTrainingPerSegment, projectWith, snsData, snsSegments } from '../helpers/pipelines';
import { testStack } from '../setup/test-stack';

// Airflow is slow to start (a few seconds per CLI call and per task), and each DAG run here has
// two tasks; a bound on each CLI call keeps a hang from eating the whole budget.
jest.setTimeout(240_000);
// The DAG's data-ready reaches the runs of `engagement`: one per SNS segment, waiting for the
// segment's posts and user_profiles.
const iso = projectWith({
  engagement: { data: snsData, training: kfpTrainingPerSegment, segments: snsSegments },
});
const inProject = { project: iso };
afterAll(() => iso.cleanup());

const AIRFLOW_CALL_TIMEOUT_MS = 150_000;

const root = path.join(__dirname, '..', '..');
const venvBin = path.join(root, '.tools', 'airflow-venv', 'bin');
const airflowBin = path.join(venvBin, 'airflow');
const DAG_ID = 'ct_data_ready_example';

let airflowHome: string;

interface AirflowRun {
  code: number | null;
  /** stdout and stderr interleaved, as a person at a terminal would see them. */
  output: string;
}

/**
 * Runs the venv's `airflow` CLI with only the settings this test chooses: no AIRFLOW_*, TEMPORAL_*
 * or PYTHON* variable of the developer's shell leaks in. Asynchronous on purpose: the worker runs
 * in this process, so blocking the event loop (spawnSync) would starve it.
 */
function airflow(args: string[], extraEnv: Record<string, string> = {}): Promise<AirflowRun> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(AIRFLOW|TEMPORAL_|CT_TASK_QUEUE|PYTHON)/.test(k)),
  );
  const env = {
    ...inherited,
    AIRFLOW_HOME: airflowHome,
    AIRFLOW__CORE__DAGS_FOLDER: path.join(root, 'integrations', 'airflow', 'dags'),
    AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
    PYTHONPATH: path.join(root, 'integrations', 'airflow'),
    // No __pycache__ left in the work tree.
    PYTHONDONTWRITEBYTECODE: '1',
    ...extraEnv,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(airflowBin, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), AIRFLOW_CALL_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: signal ? null : code,
        output: signal ? `${output}\n[killed by ${signal} after ${AIRFLOW_CALL_TIMEOUT_MS} ms]` : output,
      });
    });
  });
}

const tail = (output: string, lines = 60) => output.split('\n').slice(-lines).join('\n');

/**
 * `airflow dags test` of the example DAG against this test's worker (its own task queue), told
 * where Temporal is by the TEMPORAL_* / CT_TASK_QUEUE variables or by the Airflow Connection
 * ct_coordinator_default (here from its AIRFLOW_CONN_* variable, as a secrets backend would give it).
 */
function runExampleDag(
  ctx: WorkerContext,
  logicalDate: string,
  opts: { conf?: Record<string, string>; via?: 'env' | 'connection' } = {},
): Promise<AirflowRun> {
  const env = testStack();
  const temporal: Record<string, string> =
    opts.via === 'connection'
      ? {
          AIRFLOW_CONN_CT_COORDINATOR_DEFAULT: JSON.stringify({
            conn_type: 'generic',
            host: env.CT_TEST_TEMPORAL_ADDRESS,
            schema: env.CT_TEST_NAMESPACE,
            extra: { task_queue: ctx.taskQueue },
          }),
        }
      : {
          TEMPORAL_ADDRESS: env.CT_TEST_TEMPORAL_ADDRESS,
          TEMPORAL_NAMESPACE: env.CT_TEST_NAMESPACE,
          CT_TASK_QUEUE: ctx.taskQueue,
        };
  return airflow(
    ['dags', 'test', DAG_ID, logicalDate, ...(opts.conf ? ['--conf', JSON.stringify(opts.conf)] : [])],
    temporal,
  );
}

/**
 * A task's XCom return value, read from the SQLite metadata DB: `dags test` runs no API server to
 * ask, and Airflow 3 has no xcom CLI command.
 */
async function xcomReturnValue(taskId: string, logicalDate: string): Promise<unknown> {
  const script = `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
row = db.execute(
    "select x.value from xcom x join dag_run d on d.id = x.dag_run_id"
    " where x.dag_id = ? and x.task_id = ? and x.key = 'return_value' and d.logical_date like ?",
    (sys.argv[2], sys.argv[3], sys.argv[4] + "%"),
).fetchone()
print(row[0] if row else "null")
`;
  const { stdout } = await promisify(execFile)(path.join(venvBin, 'python'), [
    '-c',
    script,
    path.join(airflowHome, 'airflow.db'),
    DAG_ID,
    taskId,
    logicalDate,
  ]);
  return JSON.parse(stdout) as unknown;
}

beforeAll(async () => {
  if (!existsSync(airflowBin)) {
    throw new Error(
      `Airflow is not installed at ${airflowBin}: run \`bash scripts/airflow/setup.sh\` first (it builds the venv from integrations/airflow/requirements.txt).`,
    );
  }
  // A fresh AIRFLOW_HOME with its own SQLite metadata DB, shared by this file's tests (their DAG
  // runs differ by logical date).
  airflowHome = await mkdtemp(path.join(testStack().CT_TEST_TMP_DIR, 'airflow-'));
  const migrate = await airflow(['db', 'migrate']);
  if (migrate.code !== 0) throw new Error(`airflow db migrate failed (exit ${migrate.code}):\n${tail(migrate.output)}`);
});

afterAll(async () => {
  if (airflowHome) await rm(airflowHome, { recursive: true, force: true });
});

test('the example DAG signals both datasets: the training runs of the partition see them ready, from Airflow', async () => {
  await withWorker(async (ctx) => {
    const partition = uniquePartition();
    const run = await runExampleDag(ctx, partition);
    if (run.code !== 0) throw new Error(`airflow dags test exited ${run.code}:\n${tail(run.output)}`);

    // The operator logs which runs it reached.
    expect(run.output).toContain(
      `reached engagement/jp-instagram (${trainingRunId({ environment: 'staging', pipeline: 'engagement', segment: 'jp-instagram', partition })})`,
    );

    // Airflow executed routeDataReady under the agreed id, with {{ ds }} as the partition; the two
    // tasks may run in either order, so what each still waited for is not fixed.
    const reportOf = (dataset: string) =>
      ctx.client.workflow
        .getHandle<typeof routeDataReady>(routeDataReadyId({ environment: 'staging', dataset, partition }))
        .result();
    const posts: DataReadyReport = await reportOf('instagram_posts');
    expect(posts).toMatchObject({ dataset: 'instagram_posts', partition, finished: [] });
    expect(posts.reached.map((r) => [r.segment, r.accepted])).toEqual([
      ['jp-instagram', true],
      ['us-instagram', true],
    ]);
    const profiles = await reportOf('user_profiles');
    expect(profiles.reached.map((r) => [r.segment, r.accepted])).toEqual([
      ['jp-instagram', true],
      ['jp-youtube', true],
      ['us-instagram', true],
    ]);
    // The report is the task's return value, so downstream tasks can read it from XCom.
    expect(await xcomReturnValue('instagram_posts_ready', partition)).toEqual(posts);
    expect(await xcomReturnValue('user_profiles_ready', partition)).toEqual(profiles);

    const handleOf = (segment: string) =>
      ctx.client.workflow.getHandle<typeof trainingRun>(
        trainingRunId({ pipeline: 'engagement', environment: 'staging', partition, segment }),
      );
    const source = (task: string) => `airflow:${DAG_ID}.${task}`;
    for (const segment of ['jp-instagram', 'us-instagram']) {
      const status = await handleOf(segment).query(trainingStatusQuery);
      expect(status.datasets.map((d) => [d.dataset, d.ready, d.source])).toEqual([
        ['instagram_posts', true, source('instagram_posts_ready')],
        ['user_profiles', true, source('user_profiles_ready')],
      ]);
    }
    // With all its data there, each trains to the end.
    const results = await Promise.all(['jp-instagram', 'us-instagram'].map((segment) => handleOf(segment).result()));
    expect(results.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);

    // jp-youtube got user_profiles from Airflow and still waits for youtube_posts: cancel it, as
    // nothing will send that.
    const youtube = handleOf('jp-youtube');
    const status = await youtube.query(trainingStatusQuery);
    expect(status.datasets.map((d) => [d.dataset, d.ready])).toEqual([
      ['youtube_posts', false],
      ['user_profiles', true],
    ]);
    await youtube.cancel();
  }, inProject);
});

test('a refused data-ready fails the task at once with ct-coordinator’s message, and the DAG run fails', async () => {
  await withWorker(async (ctx) => {
    const partition = uniquePartition();
    const unknown = uniqueId('no_such_posts');
    // An unknown dataset is refused by the routing activity; a name over 200 characters by the
    // workflow's own input check: both end the workflow as InvalidInput with the reason on top.
    const tooLong = 'p'.repeat(201);
    const started = Date.now();
    const run = await runExampleDag(ctx, partition, {
      conf: { posts_dataset: unknown, profiles_dataset: tooLong },
      via: 'connection',
    });

    expect(run.code).not.toBe(0);
    expect(run.output).toContain('DagRun failed');
    expect(run.output).toContain(
      `ct-coordinator refused data-ready (InvalidInput): no pipeline in environment "staging" waits for dataset "${unknown}" in partition "${partition}"`,
    );
    expect(run.output).toMatch(/ct-coordinator refused data-ready \(InvalidInput\): invalid data-ready:[\s\S]*dataset/);
    // AirflowFailException: failed outright, no retry (the DAG's tasks have retries=2, 30 s apart).
    expect(run.output).not.toContain('up_for_retry');
    // The Connection, not the (absent) variables, said where to go.
    expect(run.output).toContain(
      `(namespace ${testStack().CT_TEST_NAMESPACE}, task queue ${ctx.taskQueue} at ${testStack().CT_TEST_TEMPORAL_ADDRESS})`,
    );
    expect(Date.now() - started).toBeLessThan(60_000);

    // The refusal came from ct-coordinator (its routing run for the unknown dataset failed with the
    // reason), and no training run of the partition exists.
    const routed = await ctx.client.workflow
      .getHandle(routeDataReadyId({ environment: 'staging', dataset: unknown, partition }))
      .describe();
    expect(routed.status.name).toBe('FAILED');
    const runs: string[] = [];
    for await (const w of ctx.client.workflow.list({
      query: `WorkflowType = "trainingRun" AND partition = "${partition}"`,
    }))
      runs.push(w.workflowId);
    expect(runs).toEqual([]);
    const err = await ctx.client.workflow
      .getHandle(trainingRunId({ pipeline: 'engagement', environment: 'staging', partition, segment: 'jp-instagram' }))
      .describe()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowNotFoundError);
  }, inProject);
});

test('a partition that is no real date is refused on Airflow’s side, before anything is sent', async () => {
  await withWorker(async (ctx) => {
    const logicalDate = uniquePartition();
    const run = await runExampleDag(ctx, logicalDate, { conf: { partition: '2026-02-30' } });
    expect(run.code).not.toBe(0);
    expect(run.output).toContain(
      "ct-coordinator refused data-ready (InvalidInput): partition '2026-02-30' is not a real calendar partition",
    );
    expect(run.output).not.toContain('up_for_retry');
    // No routing workflow was started: the operator refused it without calling Temporal.
    const err = await ctx.client.workflow
      .getHandle(routeDataReadyId({ environment: 'staging', dataset: 'instagram_posts', partition: '2026-02-30' }))
      .describe()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowNotFoundError);
  }, inProject);
});
