// `npm run stack:prod`: the production topology on this machine, in the foreground — PostgreSQL on
// a data folder of its own, the schema job, the Temporal server built from source with
// deploy/temporal/config.yaml, the namespace job, fake-gcs-server and the Vertex AI emulator
// standing in for Google Cloud, and CT_WORKERS compiled workers (`npm start`). The same steps and
// variables as docker-compose.yml. A service that dies is restarted on its own, the rest untouched
// (stack/supervisor.ts: restartOnExit); Ctrl-C stops it all in order (workers, servers,
// database).
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadProdStackEnv, loadWorkerEnv } from '../config/env';
import { configPath, loadConfig } from '../config/load-config';
import { resolveWorkerTarget } from '../config/worker-target';
import { readClusterTools } from '../stack/cluster-tools';
import { emulatorBanner, exampleCommands, startGoogleEmulators } from '../stack/google-emulators';
import { DevLock } from '../stack/lock';
import { recentPollers } from '../stack/pollers';
import { checkPorts, PortInUse } from '../stack/ports';
import { postgresCluster, startPostgres } from '../stack/postgres';
import { Service, waitUntilReady } from '../stack/process';
import { restartPolicy, Supervisor, type Restartable } from '../stack/supervisor';
import { startTemporalCluster, type TemporalCluster } from '../stack/temporal-cluster';
import { readToolPaths, repoRoot } from '../stack/tools';
import { workerCommand } from '../stack/worker-command';

const command = 'npm run stack:prod';

async function main(): Promise<void> {
  const env = loadProdStackEnv();
  const tools = readToolPaths();
  const cluster = readClusterTools();
  const config = loadConfig();
  const workerEnv = loadWorkerEnv();
  const target = resolveWorkerTarget(config, {
    environments: workerEnv.CT_ENVIRONMENTS,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: workerEnv.CT_TASK_QUEUE,
    configFile: configPath(),
  });
  const bundle = path.resolve(repoRoot, workerEnv.CT_WORKFLOW_BUNDLE ?? path.join('dist', 'workflow-bundle.js'));
  for (const built of [workerCommand('compiled').args.at(-1)!, bundle]) {
    if (!existsSync(built))
      throw new Error(`${built} is missing: run \`npm run build\` (npm run stack:prod does it first).`);
  }
  const dataDir = path.join(path.resolve(repoRoot, env.CT_DATA_DIR), 'prod');
  const logDir = path.join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });

  const lock = DevLock.acquire(path.join(dataDir, 'stack.lock'));
  const stack = new Supervisor(lock, command);
  try {
    await checkPorts({
      PostgreSQL: [env.DB_PORT, 'DB_PORT'],
      'Temporal frontend': [env.TEMPORAL_PORT, 'TEMPORAL_PORT'],
      'Temporal HTTP API': [env.TEMPORAL_HTTP_PORT, 'TEMPORAL_HTTP_PORT'],
      'Temporal metrics': [env.TEMPORAL_METRICS_PORT, 'TEMPORAL_METRICS_PORT'],
      'Temporal frontend membership': [env.FRONTEND_MEMBERSHIP_PORT, 'FRONTEND_MEMBERSHIP_PORT'],
      'Temporal history': [env.HISTORY_GRPC_PORT, 'HISTORY_GRPC_PORT'],
      'Temporal history membership': [env.HISTORY_MEMBERSHIP_PORT, 'HISTORY_MEMBERSHIP_PORT'],
      'Temporal matching': [env.MATCHING_GRPC_PORT, 'MATCHING_GRPC_PORT'],
      'Temporal matching membership': [env.MATCHING_MEMBERSHIP_PORT, 'MATCHING_MEMBERSHIP_PORT'],
      'Temporal system worker': [env.WORKER_GRPC_PORT, 'WORKER_GRPC_PORT'],
      'Temporal system worker membership': [env.WORKER_MEMBERSHIP_PORT, 'WORKER_MEMBERSHIP_PORT'],
      'fake-gcs-server': [env.FAKE_GCS_PORT, 'FAKE_GCS_PORT'],
      'Vertex AI emulator': [env.VERTEX_EMULATOR_PORT, 'VERTEX_EMULATOR_PORT'],
      'Vertex AI emulator control API': [env.VERTEX_EMULATOR_CONTROL_PORT, 'VERTEX_EMULATOR_CONTROL_PORT'],
      'Vertex AI emulator TLS': [env.VERTEX_EMULATOR_TLS_PORT, 'VERTEX_EMULATOR_TLS_PORT'],
    });
    const t0 = Date.now();
    // Before anything starts: where PostgreSQL can keep its cluster, or why it cannot.
    const pgPlace = postgresCluster(path.join(dataDir, 'postgres'));
    let pgService: Service | undefined;
    let postgresRestart: () => Promise<Service> = () => Promise.reject(new Error('PostgreSQL never started'));
    const startTemporal = async (): Promise<TemporalCluster> => {
      const pg = await startPostgres({
        bin: cluster.postgresBin,
        dataDir: path.join(dataDir, 'postgres'),
        port: env.DB_PORT,
        user: env.POSTGRES_USER,
        password: env.POSTGRES_PWD,
        logFile: path.join(logDir, 'postgres.log'),
        detached: true,
        onSpawn: stack.onSpawn,
      });
      pgService = pg.service;
      postgresRestart = async () => (await pg.restart()).service;
      return startTemporalCluster({
        server: cluster.temporalServer,
        sqlTool: cluster.temporalSqlTool,
        cli: tools.temporal,
        postgres: { host: pg.host, port: pg.port, user: env.POSTGRES_USER, password: env.POSTGRES_PWD },
        ports: {
          grpc: env.TEMPORAL_PORT,
          http: env.TEMPORAL_HTTP_PORT,
          metrics: env.TEMPORAL_METRICS_PORT,
          frontendMembership: env.FRONTEND_MEMBERSHIP_PORT,
          history: env.HISTORY_GRPC_PORT,
          historyMembership: env.HISTORY_MEMBERSHIP_PORT,
          matching: env.MATCHING_GRPC_PORT,
          matchingMembership: env.MATCHING_MEMBERSHIP_PORT,
          worker: env.WORKER_GRPC_PORT,
          workerMembership: env.WORKER_MEMBERSHIP_PORT,
        },
        namespaces: [target.namespace],
        logFile: path.join(logDir, 'temporal.log'),
        detached: true,
        onSpawn: stack.onSpawn,
      });
    };
    const [temporal, google] = await Promise.all([
      startTemporal(),
      startGoogleEmulators({
        fakeGcsServer: tools.fakeGcsServer,
        env,
        config,
        dataDir,
        logDir,
        onSpawn: stack.onSpawn,
      }),
    ]);

    const startWorker = async (i: number): Promise<Service> => {
      const w = Service.start({
        name: `worker-${i + 1}`,
        ...workerCommand('compiled'),
        cwd: repoRoot,
        detached: true,
        logFile: path.join(logDir, `worker-${i + 1}.log`),
        onSpawn: stack.onSpawn,
        env: {
          ...process.env,
          // Exactly `npm start`'s flags (workerCommand), whatever this process was started with.
          NODE_OPTIONS: '',
          ...google.workerEnv,
          TEMPORAL_ADDRESS: temporal.address,
          CT_WORKFLOW_BUNDLE: bundle,
        },
      });
      // Ready when it polls: the SDK's identity is pid@host.
      await waitUntilReady(
        w,
        async () =>
          (await recentPollers(temporal.address, target.namespace, target.taskQueue)).some((id) =>
            id.startsWith(`${w.pid}@`),
          ),
        120_000,
      );
      return w;
    };
    const workers = await Promise.all(Array.from({ length: env.CT_WORKERS }, (_, i) => startWorker(i)));

    let server = temporal;
    const units: Restartable[] = [
      ...workers.map((service, i) => ({ name: service.name, service, start: () => startWorker(i) })),
      {
        name: 'temporal',
        service: temporal.service,
        start: async () => (server = await server.restart()).service,
      },
      { name: 'postgres', service: pgService!, start: () => postgresRestart() },
      { name: 'fake-gcs-server', service: google.gcs.service, start: async () => (await google.gcs.restart()).service },
      {
        name: 'vertex-ai emulator',
        service: google.vertex.service,
        start: async () => (await google.vertex.restart()).service,
      },
    ];
    stack.restartOnExit(units);

    const ctPrefix = env.TEMPORAL_PORT === 7233 ? '' : `TEMPORAL_ADDRESS=${temporal.address} `;
    console.log(`
ct-coordinator production topology is up (${((Date.now() - t0) / 1000).toFixed(1)}s)
  PostgreSQL          127.0.0.1:${env.DB_PORT}  (user ${env.POSTGRES_USER}; databases temporal, temporal_visibility)${pgPlace.movedBecause ? `\n                      cluster in ${pgPlace.cluster} (${pgPlace.movedBecause})` : ''}
  Temporal server     ${temporal.address}  (v${cluster.temporalVersion}, namespace ${target.namespace}; deploy/temporal/config.yaml)
  Temporal HTTP API   ${temporal.httpUrl}
  Temporal metrics    ${temporal.metricsUrl}
${emulatorBanner(google)}
  workers             ${workers.length} × npm start, task queue ${target.taskQueue}, environments ${target.environments.join(', ')}; pids ${workers.map((w) => w.pid).join(', ')}
  data and logs       ${dataDir}/
  restarts            a service that dies is restarted (first after ${restartPolicy.firstDelayMs / 1000}s, doubling to ${restartPolicy.maxDelayMs / 1000}s), reported here as [restart]

${exampleCommands(ctPrefix)}

Ctrl-C stops everything.`);
  } catch (err) {
    if (err instanceof PortInUse) {
      console.error(`${command}: ${err.message}`);
      lock.release();
      process.exit(1);
    }
    await stack.fail(err);
  }
}

void main().catch((err: unknown) => {
  // Reached before anything was started: bad env, missing tools or build, or StackAlreadyRunning.
  console.error(`${command}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
