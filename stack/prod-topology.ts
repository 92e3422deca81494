// `npm run stack:prod`: the production topology on this machine, in the foreground — PostgreSQL on
// a data folder of its own, the schema job, the Temporal server built from source with
// deploy/temporal/config.yaml, the namespace job, fake-gcs-server and the Vertex AI emulator
// standing in for Google Cloud, and CT_WORKERS compiled workers (`npm start`). The same steps and
// variables as docker-compose.yml. A service that dies is restarted on its own, the rest untouched
// (supervisor.ts: restartOnExit); Ctrl-C stops it all in order (workers, servers, database).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadProdStackEnv } from '../config/env';
import { BlueGreen, keepBuild, type Build } from './blue-green';
import { readClusterTools } from './cluster-tools';
import { setCurrentVersion } from './deployment';
import { emulatorBanner, exampleCommands, startGoogleEmulators, type GoogleEmulators } from './google-emulators';
import { recentPollers } from './pollers';
import { checkPorts } from './ports';
import { postgresCluster, startPostgres, type Postgres } from './postgres';
import { Service, waitUntilReady } from './process';
import { stackFolders, workerTarget } from './stack-setup';
import { restartPolicy, superviseStack, type Restartable, type Supervisor } from './supervisor';
import { baseDynamicConfig, startTemporalCluster, type TemporalCluster } from './temporal-cluster';
import { onePartitionFor, writeDynamicConfig } from './dynamic-config';
import { createQueueNamesOf } from '../config/create-queues';
import { readToolPaths, repoRoot } from './tools';
import { workerAllocatorEnv } from './allocator';
import { workerCommand } from './worker-command';

export const prodCommand = 'npm run stack:prod';

/** What the topology is made of, read before anything starts (bad env, missing tools or build throw). */
function prepare() {
  const env = loadProdStackEnv();
  const tools = readToolPaths();
  const cluster = readClusterTools();
  const { config, workerEnv, target } = workerTarget(env.TEMPORAL_NAMESPACE);
  const bundle = path.resolve(repoRoot, workerEnv.CT_WORKFLOW_BUNDLE ?? path.join('dist', 'workflow-bundle.js'));
  for (const built of [workerCommand('compiled').args.at(-1)!, bundle]) {
    if (!existsSync(built))
      throw new Error(`${built} is missing: run \`npm run build\` (npm run stack:prod does it first).`);
  }
  const { dataDir, logDir } = stackFolders(env.CT_DATA_DIR, 'prod');
  // Versioned workers (Worker Deployment Versioning) when the deployment is named, as for `npm start`.
  const deployment = workerEnv.CT_DEPLOYMENT_NAME
    ? { name: workerEnv.CT_DEPLOYMENT_NAME, buildId: workerEnv.CT_BUILD_ID }
    : undefined;
  return { env, tools, cluster, config, target, bundle, dataDir, logDir, deployment };
}
type Setup = ReturnType<typeof prepare>;

function checkProdPorts(env: Setup['env']): Promise<void> {
  return checkPorts({
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
}

interface Servers {
  postgres: Postgres;
  temporal: TemporalCluster;
  google: GoogleEmulators;
}

/** PostgreSQL then the Temporal server on it, beside fake-gcs-server and the Vertex AI emulator. */
async function startServers(s: Setup, stack: Supervisor): Promise<Servers> {
  const { env, cluster, dataDir, logDir } = s;
  const startTemporal = async () => {
    // The data folder is made before anything starts (postgresCluster); a database is its cluster.
    const pgDir = path.join(dataDir, 'postgres');
    const onePartition = onePartitionFor(pgDir, existsSync(path.join(postgresCluster(pgDir).cluster, 'PG_VERSION')));
    const postgres = await startPostgres({
      bin: cluster.postgresBin,
      dataDir: path.join(dataDir, 'postgres'),
      port: env.DB_PORT,
      user: env.POSTGRES_USER,
      password: env.POSTGRES_PWD,
      logFile: path.join(logDir, 'postgres.log'),
      detached: true,
      onSpawn: stack.onSpawn,
    });
    const temporal = await startTemporalCluster({
      server: cluster.temporalServer,
      sqlTool: cluster.temporalSqlTool,
      cli: s.tools.temporal,
      postgres: { host: postgres.host, port: postgres.port, user: env.POSTGRES_USER, password: env.POSTGRES_PWD },
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
      namespaces: [s.target.namespace],
      ...(onePartition
        ? {
            dynamicConfigFile: writeDynamicConfig(
              baseDynamicConfig,
              dataDir,
              createQueueNamesOf(s.config, s.target.taskQueue),
            ),
          }
        : {}),
      logFile: path.join(logDir, 'temporal.log'),
      detached: true,
      onSpawn: stack.onSpawn,
    });
    return { postgres, temporal };
  };
  const [{ postgres, temporal }, google] = await Promise.all([
    startTemporal(),
    startGoogleEmulators({
      fakeGcsServer: s.tools.fakeGcsServer,
      env,
      config: s.config,
      dataDir,
      logDir,
      onSpawn: stack.onSpawn,
    }),
  ]);
  return { postgres, temporal, google };
}

/** Starts worker n (`npm start`'s command) of a build and resolves once it polls the task queue. */
function workerStarter(s: Setup, stack: Supervisor, { temporal, google }: Servers) {
  return async (n: number, build?: Build): Promise<Service> => {
    const w = Service.start({
      name: `worker-${n}`,
      ...workerCommand('compiled'),
      cwd: repoRoot,
      detached: true,
      logFile: path.join(s.logDir, `worker-${n}.log`),
      onSpawn: stack.onSpawn,
      env: {
        ...process.env,
        // Exactly `npm start`'s flags (workerCommand), whatever this process was started with.
        NODE_OPTIONS: '',
        ...workerAllocatorEnv(),
        ...google.workerEnv,
        TEMPORAL_ADDRESS: temporal.address,
        CT_WORKFLOW_BUNDLE: build?.bundle ?? s.bundle,
        ...(build ? { CT_BUILD_ID: build.buildId } : {}),
      },
    });
    // Ready when it polls: the SDK's identity is pid@host.
    await waitUntilReady(
      w,
      async () =>
        (await recentPollers(temporal.address, s.target.namespace, s.target.taskQueue)).some((id) =>
          id.startsWith(`${w.pid}@`),
        ),
      120_000,
    );
    return w;
  };
}

/** Each service with how to bring it back when it dies (supervisor.ts restarts it with backoff). */
function restartUnits(
  { postgres, temporal, google }: Servers,
  workers: Service[],
  startWorker: (i: number) => Promise<Service>,
): Restartable[] {
  let server = temporal;
  return [
    ...workerUnits(workers, startWorker),
    {
      name: 'temporal',
      service: temporal.service,
      start: async () => (server = await server.restart()).service,
    },
    { name: 'postgres', service: postgres.service, start: async () => (await postgres.restart()).service },
    { name: 'fake-gcs-server', service: google.gcs.service, start: async () => (await google.gcs.restart()).service },
    {
      name: 'vertex-ai emulator',
      service: google.vertex.service,
      start: async () => (await google.vertex.restart()).service,
    },
  ];
}

/** Workers the stack restarts: the i-th of `workers` comes back as `startWorker(i)` makes it. */
function workerUnits(workers: Service[], startWorker: (i: number) => Promise<Service>): Restartable[] {
  return workers.map((service, i) => ({ name: service.name, service, start: () => startWorker(i) }));
}

/**
 * A versioned stack: its build made current (a stack's start is a deploy of what it runs), and
 * blue-green deploys of the next build when asked (stack/blue-green.ts).
 */
async function versionedWorkers(
  s: Setup,
  stack: Supervisor,
  { temporal }: Servers,
  first: { build: Build; workers: Service[] },
  startWorker: (n: number, build?: Build) => Promise<Service>,
): Promise<BlueGreen> {
  const deploymentName = s.deployment!.name;
  const target = { address: temporal.address, namespace: s.target.namespace, deploymentName };
  await setCurrentVersion(target, first.build.buildId);
  let nextWorker = first.workers.length + 1;
  return new BlueGreen(
    {
      target,
      buildsDir: path.join(s.dataDir, 'builds'),
      requestFile: path.join(s.dataDir, 'deploy-request.json'),
      startGroup: async (build) => {
        const numbers = first.workers.map(() => nextWorker++);
        const started = await Promise.allSettled(numbers.map((n) => startWorker(n, build)));
        const up = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        const failed = started.find((r) => r.status === 'rejected');
        if (failed) {
          await Promise.all(up.map((w) => w.stop()));
          throw failed.reason;
        }
        stack.restartOnExit(workerUnits(up, (i) => startWorker(numbers[i]!, build)));
        return { build, names: up.map((w) => w.name) };
      },
      retire: (names) => stack.retire(names, 30_000),
      publish: (p) => stack.updateLock({ deployment: { name: deploymentName, ...p } }),
    },
    { build: first.build, names: first.workers.map((w) => w.name) },
  );
}

function printBanner(
  s: Setup,
  { temporal, google }: Servers,
  workers: Service[],
  pgPlace: ReturnType<typeof postgresCluster>,
  seconds: number,
  version: string | undefined,
): void {
  const { env, target, dataDir } = s;
  const ctPrefix = env.TEMPORAL_PORT === 7233 ? '' : `TEMPORAL_ADDRESS=${temporal.address} `;
  console.log(`
ct-coordinator production topology is up (${seconds.toFixed(1)}s)
  PostgreSQL          127.0.0.1:${env.DB_PORT}  (user ${env.POSTGRES_USER}; databases temporal, temporal_visibility)${pgPlace.movedBecause ? `\n                      cluster in ${pgPlace.cluster} (${pgPlace.movedBecause})` : ''}
  Temporal server     ${temporal.address}  (v${s.cluster.temporalVersion}, namespace ${target.namespace}; deploy/temporal/config.yaml)
  Temporal HTTP API   ${temporal.httpUrl}
  Temporal metrics    ${temporal.metricsUrl}
${emulatorBanner(google)}
  workers             ${workers.length} × npm start, task queue ${target.taskQueue}, environments ${target.environments.join(', ')}; pids ${workers.map((w) => w.pid).join(', ')}${version ? `\n                      version ${version} (current); npm run stack:prod:deploy deploys the next build blue-green` : ''}
  data and logs       ${dataDir}/
  restarts            a service that dies is restarted (first after ${restartPolicy.firstDelayMs / 1000}s, doubling to ${restartPolicy.maxDelayMs / 1000}s), reported here as [restart]

${exampleCommands(ctPrefix)}

Ctrl-C stops everything.`);
}

export async function runProdStack(): Promise<void> {
  const s = prepare();
  let blueGreen: BlueGreen | undefined;
  // `npm run stack:prod:deploy`'s signal, from the start: Node's default for it would end the stack.
  process.on('SIGUSR2', () => {
    if (blueGreen) void blueGreen.requested();
    else
      console.error(
        `\n[deploy] refused: ${s.deployment ? 'the stack is not up yet' : 'a blue-green deploy needs versioned workers (set CT_DEPLOYMENT_NAME)'}`,
      );
  });
  await superviseStack(prodCommand, path.join(s.dataDir, 'stack.lock'), async (stack) => {
    await checkProdPorts(s.env);
    const t0 = Date.now();
    // Before anything starts: where PostgreSQL can keep its cluster, or why it cannot.
    const pgPlace = postgresCluster(path.join(s.dataDir, 'postgres'));
    const servers = await startServers(s, stack);
    const startWorker = workerStarter(s, stack, servers);
    const build = s.deployment ? keepBuild(path.join(s.dataDir, 'builds'), s.bundle, s.deployment.buildId) : undefined;
    const workers = await Promise.all(Array.from({ length: s.env.CT_WORKERS }, (_, i) => startWorker(i + 1, build)));
    stack.restartOnExit(restartUnits(servers, workers, (i) => startWorker(i + 1, build)));
    if (build) blueGreen = await versionedWorkers(s, stack, servers, { build, workers }, startWorker);
    printBanner(
      s,
      servers,
      workers,
      pgPlace,
      (Date.now() - t0) / 1000,
      build && `${s.deployment!.name}:${build.buildId}`,
    );
  });
}
