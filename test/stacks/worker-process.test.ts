// The production worker (compiled by the global setup) started the way an operator starts it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { hasRecentPoller } from '../../stack/pollers';
import { freePort, Service, waitUntilReady } from '../../stack/process';
import { repoRoot } from '../../stack/tools';
import { workerCommand } from '../../stack/worker-command';
import { testStack } from '../setup/test-stack';
import { uniqueId } from '../helpers/temporal';
import { customJobTraining, dailyData, onQueue, projectWith } from '../helpers/pipelines';

// What the worker is told: only where each environment routes its runs. staging and chaos share
// one namespace and task queue; doom, sched and catchup each have a queue of their own (4 places).
const pipeline = { data: dailyData(['features']), training: customJobTraining };
const routes = uniqueId('tq-route');
const queue = (env: string) => `${routes}-${env}`;
const iso = projectWith({
  engagement: { ...pipeline, environments: { staging: {}, chaos: {} } },
  churn: pipeline,
  'impatient-fail': { ...pipeline, environments: { doom: onQueue(queue('doom')) } },
  nightly: { ...pipeline, environments: { sched: onQueue(queue('sched')) } },
  backfilled: { ...pipeline, environments: { catchup: onQueue(queue('catchup')) } },
});
afterAll(() => iso.cleanup());

/** Runs the compiled worker to its exit; `env` over a base that reaches no Google endpoint. */
async function runWorker(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  const { command, args } = workerCommand('compiled');
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: { ...withoutTemporalVars(), NODE_OPTIONS: '', METADATA_SERVER_DETECTION: 'none', ...env },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stderr };
}

const withoutTemporalVars = () =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEMPORAL_|CT_)/.test(k)));

test('a Temporal the worker cannot reach is named with how to point elsewhere; exit 1, no stack trace', async () => {
  const nowhere = `127.0.0.1:${await freePort()}`;
  // staging: every pipeline sends its staging runs to one namespace and queue.
  const { code, stderr } = await runWorker({
    TEMPORAL_ADDRESS: nowhere,
    CT_CONFIG: iso.configPath,
    CT_ENVIRONMENTS: 'staging',
  });
  expect(code).toBe(1);
  // Not on a terminal: one JSON object per line, the failure as one ERROR line.
  const lines = stderr
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { level: string; message: string });
  const errors = lines.filter((l) => l.level === 'ERROR');
  expect(errors).toHaveLength(1);
  expect(errors[0]!.message).toMatch(
    new RegExp(`^worker: cannot reach Temporal at ${nowhere}: .*Is the server up\\? Point TEMPORAL_ADDRESS`),
  );
  expect(stderr).not.toMatch(/\\n\s+at /);
});

describe('the worker polls where the config sends runs, and refuses to start anywhere else', () => {
  // Each refusal comes before the worker connects: the address below has no server.
  let nowhere: string;
  beforeAll(async () => {
    nowhere = `127.0.0.1:${await freePort()}`;
  });
  const refusal = async (env: NodeJS.ProcessEnv) => {
    const { code, stderr } = await runWorker({ TEMPORAL_ADDRESS: nowhere, CT_CONFIG: iso.configPath, ...env });
    expect(code).toBe(1);
    expect(stderr).not.toMatch(/cannot reach Temporal/);
    expect(stderr).not.toMatch(/\n\s+at /);
    return stderr;
  };

  test('environments that route to different task queues', async () => {
    // `doom` has a task queue of its own; `staging` the project's.
    const stderr = await refusal({ CT_ENVIRONMENTS: 'staging,doom' });
    expect(stderr).toMatch(/route runs to 2 different places/);
    expect(stderr).toMatch(new RegExp(`namespace ct-test / task queue ${iso.project}: staging \\(engagement, churn`));
    expect(stderr).toMatch(new RegExp(`namespace ct-test / task queue ${queue('doom')}: doom \\(impatient-fail\\)`));
    expect(stderr).toMatch(/Set CT_ENVIRONMENTS/);
  });

  test('every environment of the config, when CT_ENVIRONMENTS is unset and they disagree', async () => {
    expect(await refusal({})).toMatch(/route runs to 4 different places/);
  });

  test('an environment the config does not have', async () => {
    expect(await refusal({ CT_ENVIRONMENTS: 'staging,prod' })).toMatch(
      /CT_ENVIRONMENTS names 'prod', which .*pipelines\.yaml does not have; its environments: catchup, chaos, doom/,
    );
  });

  test('TEMPORAL_NAMESPACE or CT_TASK_QUEUE contradicting the config', async () => {
    expect(await refusal({ CT_ENVIRONMENTS: 'staging', TEMPORAL_NAMESPACE: 'elsewhere' })).toMatch(
      /contradicts .*pipelines\.yaml for staging: TEMPORAL_NAMESPACE \(or the envconfig profile\) says 'elsewhere', the config says 'ct-test'/,
    );
    expect(await refusal({ CT_ENVIRONMENTS: 'doom', CT_TASK_QUEUE: iso.project })).toMatch(
      new RegExp(`for doom: CT_TASK_QUEUE says '${iso.project}', the config says '${queue('doom')}'`),
    );
  });

  test('with only CT_ENVIRONMENTS set, it polls the namespace and task queue the config names', async () => {
    const env = testStack();
    const taskQueue = uniqueId('tq-config');
    // `doom` on a queue of this test's own, in the test namespace; nothing else says where.
    const own = projectWith({ 'impatient-fail': { ...pipeline, environments: { doom: onQueue(taskQueue) } } });
    const dir = path.dirname(own.configPath);
    const worker = Service.start({
      name: 'worker',
      ...workerCommand('compiled'),
      cwd: repoRoot,
      logFile: path.join(dir, 'worker.log'),
      env: {
        ...withoutTemporalVars(),
        NODE_OPTIONS: '',
        METADATA_SERVER_DETECTION: 'none',
        TEMPORAL_ADDRESS: env.CT_TEST_TEMPORAL_ADDRESS,
        CT_ENVIRONMENTS: 'doom',
        CT_CONFIG: own.configPath,
        CT_WORKFLOW_BUNDLE: env.CT_TEST_WORKFLOW_BUNDLE,
        GCS_API_ENDPOINT: env.CT_TEST_GCS_ENDPOINT,
        VERTEX_API_ENDPOINT: `${env.CT_TEST_VERTEX_HOST}:${env.CT_TEST_VERTEX_PORT}`,
      },
    });
    try {
      await waitUntilReady(
        worker,
        () => hasRecentPoller(env.CT_TEST_TEMPORAL_ADDRESS, env.CT_TEST_NAMESPACE, taskQueue),
        60_000,
      );
      expect(readFileSync(path.join(dir, 'worker.log'), 'utf8')).toMatch(
        new RegExp(`polling task queue ${taskQueue} in namespace ${env.CT_TEST_NAMESPACE} .* for environments doom`),
      );
    } finally {
      await worker.stop();
      await own.cleanup();
    }
  });
});
