// `npm run dev`: the local stack in the foreground — Temporal dev server (SQLite under the data
// folder), fake-gcs-server (filesystem backend), the Vertex AI emulator, the worker with its
// Prometheus metrics — stopped in order by Ctrl-C. `npm run stack:prod` (prod-topology.ts) is the
// same with a production-shaped Temporal.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadDevStackEnv } from '../config/env';
import { stackCheckWorkflowType } from '../contracts';
import { emulatorBanner, exampleCommands, startGoogleEmulators, type GoogleEmulators } from './google-emulators';
import { checkPorts } from './ports';
import { hasRecentPoller } from './pollers';
import { Service, waitUntilReady } from './process';
import { superviseStack, type Supervisor } from './supervisor';
import { startTemporalDevServer, type TemporalDevServer } from './temporal-server';
import { stackFolders, workerTarget } from './stack-setup';
import { readToolPaths, repoRoot } from './tools';
import { workerAllocatorEnv } from './allocator';
import { workerCommand } from './worker-command';

export const devCommand = 'npm run dev';

/** What the stack is made of, read before anything starts (bad env or missing tools throw). */
function prepare() {
  const env = loadDevStackEnv();
  const tools = readToolPaths();
  const { config, target } = workerTarget(env.TEMPORAL_NAMESPACE);
  const { namespace: ns, taskQueue } = target;
  const { dataDir, logDir } = stackFolders(env.CT_DATA_DIR);
  mkdirSync(path.join(dataDir, 'temporal'), { recursive: true });
  return { env, tools, config, ns, taskQueue, dataDir, logDir };
}
type Setup = ReturnType<typeof prepare>;

function checkDevPorts(env: Setup['env']): Promise<void> {
  return checkPorts({
    'Temporal frontend': [env.TEMPORAL_PORT, 'TEMPORAL_PORT'],
    'Temporal UI': [env.TEMPORAL_UI_PORT, 'TEMPORAL_UI_PORT'],
    'Temporal HTTP API': [env.TEMPORAL_HTTP_PORT, 'TEMPORAL_HTTP_PORT'],
    'Temporal metrics': [env.TEMPORAL_METRICS_PORT, 'TEMPORAL_METRICS_PORT'],
    'fake-gcs-server': [env.FAKE_GCS_PORT, 'FAKE_GCS_PORT'],
    'Vertex AI emulator': [env.VERTEX_EMULATOR_PORT, 'VERTEX_EMULATOR_PORT'],
    'Vertex AI emulator control API': [env.VERTEX_EMULATOR_CONTROL_PORT, 'VERTEX_EMULATOR_CONTROL_PORT'],
    'Vertex AI emulator TLS': [env.VERTEX_EMULATOR_TLS_PORT, 'VERTEX_EMULATOR_TLS_PORT'],
    'worker metrics': [env.WORKER_METRICS_PORT, 'WORKER_METRICS_PORT'],
  });
}

function startServers(s: Setup, stack: Supervisor): Promise<[TemporalDevServer, GoogleEmulators]> {
  const { env, dataDir, logDir } = s;
  return Promise.all([
    startTemporalDevServer({
      binary: s.tools.temporal,
      ip: '127.0.0.1',
      port: env.TEMPORAL_PORT,
      uiPort: env.TEMPORAL_UI_PORT,
      httpPort: env.TEMPORAL_HTTP_PORT,
      metricsPort: env.TEMPORAL_METRICS_PORT,
      dbFile: path.join(dataDir, 'temporal', 'dev.sqlite'),
      namespace: s.ns,
      logFile: path.join(logDir, 'temporal.log'),
      detached: true,
      onSpawn: stack.onSpawn,
    }),
    startGoogleEmulators({
      fakeGcsServer: s.tools.fakeGcsServer,
      env,
      config: s.config,
      dataDir,
      logDir,
      onSpawn: stack.onSpawn,
    }),
  ]);
}

/** The worker from source, sharing this terminal. */
function startWorker(s: Setup, stack: Supervisor, temporal: TemporalDevServer, google: GoogleEmulators): Service {
  return Service.start({
    name: 'worker',
    ...workerCommand('source'),
    cwd: repoRoot,
    detached: true,
    onSpawn: stack.onSpawn,
    env: {
      ...process.env,
      ...workerAllocatorEnv(),
      ...google.workerEnv,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: s.ns,
      CT_TASK_QUEUE: s.taskQueue,
      CT_METRICS_ADDRESS: workerMetricsAddress(s.env),
      // The worker shares this terminal: readable lines, not JSON (CT_LOG_FORMAT=json overrides).
      CT_LOG_FORMAT: process.env.CT_LOG_FORMAT || 'pretty',
    },
  });
}

const workerMetricsAddress = (env: Setup['env']) => `127.0.0.1:${env.WORKER_METRICS_PORT}`;

function printBanner(s: Setup, temporal: TemporalDevServer, google: GoogleEmulators, worker: Service, seconds: number) {
  const { env, ns, taskQueue, dataDir } = s;
  const cli = path.relative(process.cwd(), s.tools.temporal) || s.tools.temporal;
  const addressFlag = env.TEMPORAL_PORT === 7233 ? '' : ` --address ${temporal.address}`;
  const ctPrefix = env.TEMPORAL_PORT === 7233 ? '' : `TEMPORAL_ADDRESS=${temporal.address} `;
  const input = JSON.stringify({ bucket: env.GCS_BUCKETS[0], holdSeconds: 300 });
  console.log(`
ct-coordinator local stack is up (${seconds.toFixed(1)}s)
  Temporal UI         ${temporal.uiUrl}/namespaces/${ns}/workflows
  Temporal frontend   ${temporal.address}  (namespace ${ns})
  Temporal HTTP API   ${temporal.httpUrl}
  Temporal metrics    ${temporal.metricsUrl}
${emulatorBanner(google)}
  worker              task queue ${taskQueue}, pid ${worker.pid}
  worker metrics      http://${workerMetricsAddress(env)}/metrics  (ct_* and the SDK's temporal_*; observability/)
  data and logs       ${dataDir}/

${exampleCommands(ctPrefix)}
Check the deployment end to end (holds 5 minutes, or until signalled "release"):
  ${cli} workflow start${addressFlag} --namespace ${ns} --task-queue ${taskQueue} --type ${stackCheckWorkflowType} --workflow-id stack-check-$(date +%s) --input '${input}'

Ctrl-C stops everything.`);
}

export async function runDevStack(): Promise<void> {
  const s = prepare();
  await superviseStack(devCommand, path.join(s.dataDir, 'dev.lock'), async (stack) => {
    await checkDevPorts(s.env);
    const t0 = Date.now();
    const [temporal, google] = await startServers(s, stack);
    const worker = startWorker(s, stack, temporal, google);
    stack.updateLock({ uiUrl: temporal.uiUrl });
    await waitUntilReady(worker, () => hasRecentPoller(temporal.address, s.ns, s.taskQueue), 120_000);
    stack.stopOnExit();
    printBanner(s, temporal, google, worker, (Date.now() - t0) / 1000);
  });
}
