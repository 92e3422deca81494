// `npm run dev`: the local stack in the foreground — Temporal dev server (SQLite under the data
// folder), fake-gcs-server (filesystem backend), the worker — stopped in order by Ctrl-C.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadLocalStackEnv, loadWorkerEnv } from '../config/env';
import { stackCheckWorkflowType } from '../contracts';
import { configPath, loadConfig } from '../config/load-config';
import { resolveWorkerTarget } from '../config/worker-target';
import { ensureBuckets, startFakeGcs } from './stack/gcs-server';
import { seedFromConfig } from './stack/seed';
import { DevLock } from './stack/lock';
import { hasRecentPoller } from './stack/pollers';
import { isPortFree, Service, waitUntilReady } from './stack/process';
import { startTemporalDevServer } from './stack/temporal-server';
import { startVertexEmulator } from './stack/vertex-emulator';
import { readToolPaths, repoRoot } from './stack/tools';
import { workerCommand } from './stack/worker-command';

class PortInUse extends Error {
  override name = 'PortInUse';
}

async function checkPorts(ports: Record<string, [number, string]>): Promise<void> {
  for (const [what, [port, envVar]] of Object.entries(ports)) {
    if (!(await isPortFree(port))) {
      throw new PortInUse(
        `port ${port} (${what}) is already in use by another program: stop it, or set ${envVar} to another port.`,
      );
    }
  }
}

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
  const services: Service[] = [];
  let stopping = false;
  const onSpawn = (s: Service) => {
    services.push(s);
    lock.update({ servicePids: services.map((x) => x.pid) });
    // Spawned by a start-up step that was already under way when the stop came.
    if (stopping) void s.stop();
  };
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping: worker first, then the servers…');
    // Worker first so it drains its tasks while the server is still there to report them to.
    const worker = services.find((s) => s.name === 'worker');
    await worker?.stop(15_000);
    // Until none is left: a start-up step may spawn one more while these stop.
    while (services.some((s) => s.running)) await Promise.all(services.map((s) => s.stop()));
    lock.release();
    console.log('stopped; nothing left running.');
    process.exit(code);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void stopAll(0));

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
    const [temporalServer, gcs] = await Promise.all([
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
        onSpawn,
      }),
      startFakeGcs({
        binary: tools.fakeGcsServer,
        port: env.FAKE_GCS_PORT,
        root: path.join(dataDir, 'gcs'),
        logFile: path.join(logDir, 'fake-gcs-server.log'),
        detached: true,
        onSpawn,
      }),
    ]);
    await ensureBuckets(gcs.endpoint, env.GOOGLE_CLOUD_PROJECT, env.GCS_BUCKETS);
    const seeded = await seedFromConfig(gcs.endpoint, env.GOOGLE_CLOUD_PROJECT, config);
    const vertex = await startVertexEmulator({
      port: env.VERTEX_EMULATOR_PORT,
      controlPort: env.VERTEX_EMULATOR_CONTROL_PORT,
      gcsEndpoint: gcs.endpoint,
      projectId: env.GOOGLE_CLOUD_PROJECT,
      stateFile: path.join(dataDir, 'vertex-ai', 'state.json'),
      tls: { port: env.VERTEX_EMULATOR_TLS_PORT, dir: path.join(dataDir, 'vertex-ai', 'tls') },
      logFile: path.join(logDir, 'vertex-ai-emulator.log'),
      detached: true,
      onSpawn,
    });

    const worker = Service.start({
      name: 'worker',
      ...workerCommand('source'),
      cwd: repoRoot,
      detached: true,
      onSpawn,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: temporalServer.address,
        TEMPORAL_NAMESPACE: ns,
        CT_TASK_QUEUE: taskQueue,
        GCS_API_ENDPOINT: gcs.endpoint,
        GOOGLE_CLOUD_PROJECT: env.GOOGLE_CLOUD_PROJECT,
        VERTEX_API_ENDPOINT: `${vertex.host}:${vertex.port}`,
        METADATA_SERVER_DETECTION: 'none',
      },
    });
    lock.update({ uiUrl: temporalServer.uiUrl });
    await waitUntilReady(worker, () => hasRecentPoller(temporalServer.address, ns, taskQueue), 120_000);

    for (const s of services) {
      void s.exited.then((code) => {
        if (stopping) return;
        console.error(`\n${s.name} exited unexpectedly (code ${code}). Last lines:\n${s.logTail()}`);
        void stopAll(1);
      });
    }

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
  fake-gcs-server     ${gcs.endpoint}  (buckets: ${[...env.GCS_BUCKETS, ...seeded.buckets].join(', ')})
  Vertex AI emulator  ${vertex.host}:${vertex.port} (gRPC), control API ${vertex.controlUrl}
                      TLS ${vertex.host}:${vertex.tls!.port}, CA ${vertex.tls!.caCertPath}
                      token_uri ${vertex.tls!.tokenUri}, grpc_proxy ${vertex.controlUrl}  (README: "Google's own clients")
  worker              task queue ${taskQueue}, pid ${worker.pid}
  data and logs       ${dataDir}/

Start an example training run (Airflow would send these data-ready calls):
  ${ctPrefix}npm run ct -- data-ready --env staging --dataset instagram_posts --partition 2026-11-21
  ${ctPrefix}npm run ct -- data-ready --env staging --dataset user_profiles --partition 2026-11-21
Then predict with the new champions, and put the config's schedules into Temporal:
  ${ctPrefix}npm run ct -- predict --pipeline sns-engagement --env staging --partition 2026-11-21 --segment jp-instagram --wait
  ${ctPrefix}npm run ct -- schedules sync --env staging
Check the deployment end to end (holds 5 minutes, or until signalled "release"):
  ${cli} workflow start${addressFlag} --namespace ${ns} --task-queue ${taskQueue} --type ${stackCheckWorkflowType} --workflow-id stack-check-$(date +%s) --input '${input}'

Ctrl-C stops everything.`);
  } catch (err) {
    // A stop during start-up ends the services being waited for: that is not an error to report.
    if (stopping) return;
    if (err instanceof PortInUse) {
      console.error(`npm run dev: ${err.message}`);
      lock.release();
      process.exit(1);
    }
    console.error(`npm run dev: ${err instanceof Error ? err.message : String(err)}`);
    await stopAll(1);
  }
}

void main().catch((err: unknown) => {
  // Reached before anything was started: bad env, missing tools, or StackAlreadyRunning.
  console.error(`npm run dev: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
