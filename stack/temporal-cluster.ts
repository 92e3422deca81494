import { execFile } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import type { TemporalConnectionOptions } from '../config/temporal';
import { Service, waitUntilReady, type ServiceOptions } from './process';
import { repoRoot } from './tools';

// The Temporal server as production runs it — built from source, on PostgreSQL, configured by
// deploy/temporal/config.yaml — with the same set-up steps docker-compose.yml runs as one-shot
// jobs (deploy/temporal/setup-schema.sh, setup-namespaces.sh), driven by the same variables.

export const deployDir = path.join(repoRoot, 'deploy', 'temporal');
export const baseDynamicConfig = path.join(deployDir, 'dynamicconfig.yaml');

export interface TemporalClusterPorts {
  grpc: number;
  http: number;
  metrics: number;
  /** membership and internal gRPC ports of the four services, each its own (several stacks on one host) */
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

export interface TemporalClusterOptions {
  server: string;
  sqlTool: string;
  /** The Temporal CLI, for the namespace step (as in the admin-tools image). */
  cli: string;
  postgres: { host: string; port: number; user: string; password: string };
  ports: TemporalClusterPorts;
  namespaces: string[];
  logFile: string;
  /** PEM files: the frontend and internode serve TLS and require client certificates from this CA (mTLS). */
  tls?: ClusterTls;
  /** DYNAMIC_CONFIG_FILE_PATH; deploy/temporal/dynamicconfig.yaml when unset (stack/dynamic-config.ts). */
  dynamicConfigFile?: string;
  detached?: boolean;
  onSpawn?: ServiceOptions['onSpawn'];
}

export interface ClusterTls {
  caCert: string;
  /** For 127.0.0.1 and localhost, usable as a client certificate too (the system worker presents it). */
  serverCert: string;
  serverKey: string;
  /** What the set-up scripts' CLI presents. */
  clientCert: string;
  clientKey: string;
}

export interface TemporalCluster {
  service: Service;
  address: string;
  /** How a client reaches the frontend (with TLS: the CA and the client certificate). */
  connection: TemporalConnectionOptions;
  httpUrl: string;
  metricsUrl: string;
  /** Starts the server again on the same database and ports (after a crash a test caused). */
  restart(): Promise<TemporalCluster>;
}

/** The variables deploy/temporal/config.yaml and the set-up scripts read; docker-compose.yml sets the same. */
export function clusterEnv(o: TemporalClusterOptions): NodeJS.ProcessEnv {
  const p = o.ports;
  return {
    POSTGRES_SEEDS: o.postgres.host,
    DB_PORT: String(o.postgres.port),
    POSTGRES_USER: o.postgres.user,
    POSTGRES_PWD: o.postgres.password,
    BIND_ON_IP: '127.0.0.1',
    FRONTEND_GRPC_PORT: String(p.grpc),
    FRONTEND_HTTP_PORT: String(p.http),
    FRONTEND_MEMBERSHIP_PORT: String(p.frontendMembership),
    HISTORY_GRPC_PORT: String(p.history),
    HISTORY_MEMBERSHIP_PORT: String(p.historyMembership),
    MATCHING_GRPC_PORT: String(p.matching),
    MATCHING_MEMBERSHIP_PORT: String(p.matchingMembership),
    WORKER_GRPC_PORT: String(p.worker),
    WORKER_MEMBERSHIP_PORT: String(p.workerMembership),
    PROMETHEUS_ENDPOINT: `127.0.0.1:${p.metrics}`,
    DYNAMIC_CONFIG_FILE_PATH: o.dynamicConfigFile ?? baseDynamicConfig,
    LOG_LEVEL: 'warn',
    TEMPORAL_SQL_TOOL: o.sqlTool,
    TEMPORAL_CLI: o.cli,
    TEMPORAL_ADDRESS: `127.0.0.1:${p.grpc}`,
    CT_NAMESPACES: o.namespaces.join(','),
    ...(o.tls ? tlsEnv(o.tls) : {}),
  };
}

/** The server's TLS variables (upstream's names) and the CLI's envconfig ones for the set-up scripts. */
function tlsEnv(t: ClusterTls): NodeJS.ProcessEnv {
  return {
    TEMPORAL_TLS_SERVER_CA_CERT: t.caCert,
    TEMPORAL_TLS_SERVER_CERT: t.serverCert,
    TEMPORAL_TLS_SERVER_KEY: t.serverKey,
    TEMPORAL_TLS_FRONTEND_CERT: t.serverCert,
    TEMPORAL_TLS_FRONTEND_KEY: t.serverKey,
    TEMPORAL_TLS_CLIENT1_CA_CERT: t.caCert,
    TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: 'true',
    TEMPORAL_TLS_INTERNODE_SERVER_NAME: 'localhost',
    TEMPORAL_TLS_FRONTEND_SERVER_NAME: 'localhost',
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: t.caCert,
    TEMPORAL_TLS_CLIENT_CERT_PATH: t.clientCert,
    TEMPORAL_TLS_CLIENT_KEY_PATH: t.clientKey,
  };
}

function connectionOf(o: TemporalClusterOptions): TemporalConnectionOptions {
  const address = `127.0.0.1:${o.ports.grpc}`;
  if (!o.tls) return { address };
  return {
    address,
    tls: {
      serverNameOverride: 'localhost', // TLS's SNI carries no IP address
      serverRootCACertificate: readFileSync(o.tls.caCert),
      clientCertPair: { crt: readFileSync(o.tls.clientCert), key: readFileSync(o.tls.clientKey) },
    },
  };
}

/** Whether the namespace answers through the frontend's gRPC API (with TLS where the cluster has it). */
async function namespaceReady(connection: TemporalConnectionOptions, namespace: string): Promise<boolean> {
  try {
    const c = await Connection.connect({ ...connection, connectTimeout: 2_000 });
    try {
      await c.workflowService.describeNamespace({ namespace });
      return true;
    } finally {
      await c.close();
    }
  } catch {
    return false;
  }
}

/** Runs one of deploy/temporal's set-up scripts, its output appended to the server's log. */
async function runSetup(script: string, o: TemporalClusterOptions): Promise<void> {
  try {
    const { stdout, stderr } = await promisify(execFile)('sh', [path.join(deployDir, script)], {
      env: { ...process.env, ...clusterEnv(o) },
      timeout: 180_000,
    });
    appendFileSync(o.logFile, stdout + stderr);
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    appendFileSync(o.logFile, `${e.stdout ?? ''}${e.stderr ?? ''}`);
    throw new Error(`deploy/temporal/${script} failed:\n${e.stderr || e.stdout || String(err)}`, { cause: err });
  }
}

/** Schema set-up, the server, then namespaces and search attributes: resolves once the namespaces answer. */
export async function startTemporalCluster(o: TemporalClusterOptions): Promise<TemporalCluster> {
  await runSetup('setup-schema.sh', o);
  return startServer(o);
}

async function startServer(o: TemporalClusterOptions): Promise<TemporalCluster> {
  const service = Service.start({
    name: 'temporal',
    command: o.server,
    args: ['--config-file', path.join(deployDir, 'config.yaml'), '--allow-no-auth', 'start'],
    env: { ...process.env, ...clusterEnv(o) },
    logFile: o.logFile,
    detached: o.detached,
    onSpawn: o.onSpawn,
  });
  const httpUrl = `http://127.0.0.1:${o.ports.http}`;
  // setup-namespaces.sh waits for the frontend itself; racing it with the exit fails fast on a crash.
  let settled = false;
  const crashed = service.exited.then((code) => {
    if (!settled) throw new Error(`temporal exited during start-up (code ${code}). Last lines:\n${service.logTail()}`);
  });
  crashed.catch(() => undefined);
  try {
    await Promise.race([runSetup('setup-namespaces.sh', o), crashed]);
  } finally {
    settled = true;
  }
  const connection = connectionOf(o);
  for (const ns of o.namespaces) {
    await waitUntilReady(service, () => namespaceReady(connection, ns), 60_000);
  }
  return {
    service,
    address: connection.address,
    connection,
    httpUrl,
    metricsUrl: `http://127.0.0.1:${o.ports.metrics}/metrics`,
    restart: () => startServer(o),
  };
}
