// `npm run dev`: the local stack in the foreground — Temporal dev server (SQLite under the data
// folder), fake-gcs-server (filesystem backend), the Vertex AI emulator, the worker — stopped in
// order by Ctrl-C. `npm run stack:prod` (scripts/prod.ts) is the same with a production-shaped Temporal.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadLocalStackEnv, loadWorkerEnv } from '../config/env';
import { stackCheckWorkflowType } from '../contracts';
import { configPath, loadConfig } from '../config/load-config';
import { resolveWorkerTarget } from '../config/worker-target';
import { emulatorBanner, exampleCommands, startGoogleEmulators } from '../stack/google-emulators';
import { DevLock } from '../stack/lock';
import { checkPorts, PortInUse } from '../stack/ports';
import { hasRecentPoller } from '../stack/pollers';
import { Service, waitUntilReady } from '../stack/process';
import { Supervisor } from '../stack/supervisor';
import { startTemporalDevServer } from '../stack/temporal-server';
import { readToolPaths, repoRoot } from '../stack/tools';
import { workerCommand } from '../stack/worker-command';

async function main(): Promise<void> {
  const env = loadLocalStackEnv();
  const tools = readToolPaths();
  const config = loadConfig();
  // The namespace the server makes and the queue the worker polls are the config's, as clients see them.
  const workerEnv = loadWorkerEnv();
  const { namespace: ns, taskQueue } = resolveWorkerTarget(config, {
    environments: workerEnv.CT_ENVIRONMENTS,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: workerEnv.CT_TASK_QUEUE,
    configFile: configPath(),
  });
  const dataDir = path.resolve(repoRoot, env.CT_DATA_DIR);
  const logDir = path.join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  mkdirSync(path.join(dataDir, 'temporal'), { recursive: true });

  const lock = DevLock.acquire(path.join(dataDir, 'dev.lock'));
  // Every child from the moment it is spawned, ready or not: a stop during start-up ends it too.
  const stack = new Supervisor(lock, 'npm run dev');

  try {
    await checkPorts({
      'Temporal frontend': [env.TEMPORAL_PORT, 'TEMPORAL_PORT'],
      'Temporal UI': [env.TEMPORAL_UI_PORT, 'TEMPORAL_UI_PORT'],
      'Temporal HTTP API': [env.TEMPORAL_HTTP_PORT, 'TEMPORAL_HTTP_PORT'],
      'Temporal metrics': [env.TEMPORAL_METRICS_PORT, 'TEMPORAL_METRICS_PORT'],
      'fake-gcs-server': [env.FAKE_GCS_PORT, 'FAKE_GCS_PORT'],
      'Vertex AI emulator': [env.VERTEX_EMULATOR_PORT, 'VERTEX_EMULATOR_PORT'],
      'Vertex AI emulator control API': [env.VERTEX_EMULATOR_CONTROL_PORT, 'VERTEX_EMULATOR_CONTROL_PORT'],
      'Vertex AI emulator TLS': [env.VERTEX_EMULATOR_TLS_PORT, 'VERTEX_EMULATOR_TLS_PORT'],
    });
    const t0 = Date.now();
    const [temporalServer, google] = await Promise.all([
      startTemporalDevServer({
        binary: tools.temporal,
        ip: '127.0.0.1',
        port: env.TEMPORAL_PORT,
        uiPort: env.TEMPORAL_UI_PORT,
        httpPort: env.TEMPORAL_HTTP_PORT,
        metricsPort: env.TEMPORAL_METRICS_PORT,
        dbFile: path.join(dataDir, 'temporal', 'dev.sqlite'),
        namespace: ns,
        logFile: path.join(logDir, 'temporal.log'),
        detached: true,
        onSpawn: stack.onSpawn,
      }),
      startGoogleEmulators({
        fakeGcsServer: tools.fakeGcsServer,
        env,
        config,
        dataDir,
        logDir,
        onSpawn: stack.onSpawn,
      }),
    ]);

    const worker = Service.start({
      name: 'worker',
      ...workerCommand('source'),
      cwd: repoRoot,
      detached: true,
      onSpawn: stack.onSpawn,
      env: {
        ...process.env,
        ...google.workerEnv,
        TEMPORAL_ADDRESS: temporalServer.address,
        TEMPORAL_NAMESPACE: ns,
        CT_TASK_QUEUE: taskQueue,
        // The worker shares this terminal: readable lines, not JSON (CT_LOG_FORMAT=json overrides).
        CT_LOG_FORMAT: process.env.CT_LOG_FORMAT || 'pretty',
      },
    });
    lock.update({ uiUrl: temporalServer.uiUrl });
    await waitUntilReady(worker, () => hasRecentPoller(temporalServer.address, ns, taskQueue), 120_000);
    stack.stopOnExit();

    const cli = path.relative(process.cwd(), tools.temporal) || tools.temporal;
    const addressFlag = env.TEMPORAL_PORT === 7233 ? '' : ` --address ${temporalServer.address}`;
    const ctPrefix = env.TEMPORAL_PORT === 7233 ? '' : `TEMPORAL_ADDRESS=${temporalServer.address} `;
    const input = JSON.stringify({ bucket: env.GCS_BUCKETS[0], holdSeconds: 300 });
    console.log(`
ct-coordinator local stack is up (${((Date.now() - t0) / 1000).toFixed(1)}s)
  Temporal UI         ${temporalServer.uiUrl}/namespaces/${ns}/workflows
  Temporal frontend   ${temporalServer.address}  (namespace ${ns})
  Temporal HTTP API   ${temporalServer.httpUrl}
  Temporal metrics    ${temporalServer.metricsUrl}
${emulatorBanner(google)}
  worker              task queue ${taskQueue}, pid ${worker.pid}
  data and logs       ${dataDir}/

${exampleCommands(ctPrefix)}
Check the deployment end to end (holds 5 minutes, or until signalled "release"):
  ${cli} workflow start${addressFlag} --namespace ${ns} --task-queue ${taskQueue} --type ${stackCheckWorkflowType} --workflow-id stack-check-$(date +%s) --input '${input}'

Ctrl-C stops everything.`);
  } catch (err) {
    if (err instanceof PortInUse) {
      console.error(`npm run dev: ${err.message}`);
      lock.release();
      process.exit(1);
    }
    await stack.fail(err);
  }
}

void main().catch((err: unknown) => {
  // Reached before anything was started: bad env, missing tools, or StackAlreadyRunning.
  console.error(`npm run dev: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
