import path from 'node:path';
import { caCertPath } from '../emulators/vertex-ai/tls';
import { httpOk, Service, waitUntilReady, type ServiceOptions } from './process';
import { repoRoot } from './tools';

export interface VertexEmulatorOptions {
  port: number;
  controlPort: number;
  gcsEndpoint: string;
  projectId: string;
  /** JSON file that keeps jobs and models across restarts; in memory when omitted. */
  stateFile?: string;
  logFile?: string;
  detached?: boolean;
  /** Also serve TLS on this port, with the local CA and server certificate kept in `tlsDir`. */
  tls?: { port: number; dir: string };
  onSpawn?: ServiceOptions['onSpawn'];
}

export interface VertexEmulator {
  service: Service;
  /** host:port for the aiplatform clients (apiEndpoint + port). */
  host: string;
  port: number;
  controlUrl: string;
  /** With TLS: its port, the CA file clients trust, and the OAuth2 token endpoint a key file's token_uri names. */
  tls?: { port: number; caCertPath: string; tokenUri: string };
  /** Starts it again on the same ports and state file (after it died). */
  restart: () => Promise<VertexEmulator>;
}

export async function startVertexEmulator(o: VertexEmulatorOptions): Promise<VertexEmulator> {
  const service = Service.start({
    name: 'vertex-ai emulator',
    command: process.execPath,
    args: ['--import', 'tsx', path.join(repoRoot, 'emulators', 'vertex-ai', 'main.ts')],
    cwd: repoRoot,
    logFile: o.logFile,
    detached: o.detached,
    onSpawn: o.onSpawn,
    env: {
      ...process.env,
      VERTEX_EMULATOR_PORT: String(o.port),
      VERTEX_EMULATOR_CONTROL_PORT: String(o.controlPort),
      VERTEX_EMULATOR_STATE_FILE: o.stateFile ?? '',
      GCS_API_ENDPOINT: o.gcsEndpoint,
      GOOGLE_CLOUD_PROJECT: o.projectId,
      VERTEX_EMULATOR_TLS: String(!!o.tls),
      VERTEX_EMULATOR_TLS_PORT: o.tls ? String(o.tls.port) : '',
      VERTEX_EMULATOR_TLS_DIR: o.tls?.dir ?? '',
    },
  });
  const controlUrl = `http://127.0.0.1:${o.controlPort}`;
  await waitUntilReady(service, () => httpOk(`${controlUrl}/health`));
  const tls = o.tls && {
    port: o.tls.port,
    caCertPath: caCertPath(path.resolve(repoRoot, o.tls.dir)),
    tokenUri: `${controlUrl}/token`,
  };
  return { service, host: '127.0.0.1', port: o.port, controlUrl, tls, restart: () => startVertexEmulator(o) };
}
