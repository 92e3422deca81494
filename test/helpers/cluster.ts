import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readClusterTools } from '../../stack/cluster-tools';
import { startPostgres, type Postgres } from '../../stack/postgres';
import { freePort, type Service } from '../../stack/process';
import { startTemporalCluster, type ClusterTls, type TemporalCluster } from '../../stack/temporal-cluster';
import { readToolPaths } from '../../stack/tools';

// The production topology's Temporal (the server built from source on PostgreSQL, set up by the
// scripts compose runs) for a test of its own, so the test can kill and restart its parts.

export interface TestCluster {
  postgres: Postgres;
  temporal: TemporalCluster;
  dir: string;
  /** Stops PostgreSQL as a crash would (immediate shutdown); resolves once it has exited. */
  crashPostgres: () => Promise<void>;
  /** Starts PostgreSQL again on the same data folder (crash recovery). */
  restartPostgres: () => Promise<void>;
  stop: () => Promise<void>;
}

export async function startTestCluster(namespace: string, opts: { tls?: ClusterTls } = {}): Promise<TestCluster> {
  const tools = readClusterTools();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-cluster-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as the postgres user when the tests run as root
  const auth = { user: 'temporal', password: 'temporal' };
  const postgresOptions = {
    bin: tools.postgresBin,
    dataDir: path.join(dir, 'postgres'),
    port: await freePort(),
    ...auth,
    logFile: path.join(dir, 'postgres.log'),
  };
  const postgres = await startPostgres(postgresOptions);
  let temporal: TemporalCluster | undefined;
  const spawned: Service[] = [];
  try {
    temporal = await startTemporalCluster({
      server: tools.temporalServer,
      sqlTool: tools.temporalSqlTool,
      cli: readToolPaths().temporal,
      postgres: { host: postgres.host, port: postgres.port, ...auth },
      ports: {
        grpc: await freePort(),
        http: await freePort(),
        metrics: await freePort(),
        history: await freePort(),
        matching: await freePort(),
        worker: await freePort(),
        frontendMembership: await freePort(),
        historyMembership: await freePort(),
        matchingMembership: await freePort(),
        workerMembership: await freePort(),
      },
      namespaces: [namespace],
      tls: opts.tls,
      logFile: path.join(dir, 'temporal.log'),
      onSpawn: (s) => spawned.push(s),
    });
  } catch (err) {
    // A server that came up but failed its namespace step is stopped too.
    await Promise.all([...spawned, postgres.service].map((s) => s.stop()));
    throw err;
  }
  const cluster: TestCluster = {
    postgres,
    temporal,
    dir,
    crashPostgres: async () => {
      // SIGQUIT is PostgreSQL's immediate shutdown: no checkpoint, crash recovery at the next start.
      process.kill(cluster.postgres.service.pid, 'SIGQUIT');
      await cluster.postgres.service.exited;
    },
    restartPostgres: async () => {
      cluster.postgres = await startPostgres(postgresOptions);
    },
    stop: async () => {
      await cluster.temporal.service.stop();
      await cluster.postgres.service.stop();
    },
  };
  return cluster;
}
