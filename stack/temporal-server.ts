import { devServerPartitionArgs, onePartitionFor } from './dynamic-config';
import { searchAttributeCliArgs } from './search-attributes';
import { httpOk, Service, waitUntilReady, type ServiceOptions } from './process';

export interface TemporalDevServerOptions {
  binary: string;
  ip: string;
  port: number;
  httpPort: number;
  metricsPort: number;
  /** Omit for a headless server (tests). */
  uiPort?: number;
  /** SQLite file that keeps state across restarts; omit for an in-memory server. */
  dbFile?: string;
  namespace: string;
  logFile: string;
  detached?: boolean;
  onSpawn?: ServiceOptions['onSpawn'];
}

export interface TemporalDevServer {
  service: Service;
  address: string;
  httpUrl: string;
  metricsUrl: string;
  uiUrl?: string;
}

/** Starts `temporal server start-dev` and resolves once the project namespace answers. */
export async function startTemporalDevServer(o: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const args = [
    'server',
    'start-dev',
    '--ip',
    o.ip,
    '--port',
    String(o.port),
    '--http-port',
    String(o.httpPort),
    '--metrics-port',
    String(o.metricsPort),
    '--namespace',
    o.namespace,
    '--log-level',
    'warn',
    ...searchAttributeCliArgs(),
    ...(onePartitionFor(o.dbFile) ? devServerPartitionArgs : []),
    ...(o.dbFile ? ['--db-filename', o.dbFile] : []),
    ...(o.uiPort ? ['--ui-port', String(o.uiPort), '--ui-disable-news-fetch'] : ['--headless']),
  ];
  const service = Service.start({
    name: 'temporal',
    command: o.binary,
    args,
    logFile: o.logFile,
    detached: o.detached,
    onSpawn: o.onSpawn,
  });
  const httpUrl = `http://${o.ip}:${o.httpPort}`;
  // The HTTP API answering for our namespace means frontend, persistence and namespace are ready.
  await waitUntilReady(service, () => httpOk(`${httpUrl}/api/v1/namespaces/${encodeURIComponent(o.namespace)}`));
  return {
    service,
    address: `${o.ip}:${o.port}`,
    httpUrl,
    metricsUrl: `http://${o.ip}:${o.metricsPort}/metrics`,
    uiUrl: o.uiPort ? `http://localhost:${o.uiPort}` : undefined,
  };
}
