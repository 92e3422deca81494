import { Storage } from '@google-cloud/storage';
import { httpOk, Service, waitUntilReady, type ServiceOptions } from './process';

export interface FakeGcsOptions {
  binary: string;
  port: number;
  /** Folder for the filesystem backend (state survives restarts); omit for memory. */
  root?: string;
  logFile: string;
  detached?: boolean;
  onSpawn?: ServiceOptions['onSpawn'];
}

export interface FakeGcs {
  service: Service;
  endpoint: string;
  /** Starts it again on the same port and folder (after it died). */
  restart: () => Promise<FakeGcs>;
}

export async function startFakeGcs(o: FakeGcsOptions): Promise<FakeGcs> {
  const endpoint = `http://127.0.0.1:${o.port}`;
  const args = [
    '-scheme',
    'http',
    '-host',
    '127.0.0.1',
    '-port',
    String(o.port),
    // Without these, resumable uploads are told to continue at 0.0.0.0 / storage.googleapis.com.
    '-external-url',
    endpoint,
    '-public-host',
    `127.0.0.1:${o.port}`,
    '-log-level',
    'warn',
    ...(o.root ? ['-backend', 'filesystem', '-filesystem-root', o.root] : ['-backend', 'memory']),
  ];
  const service = Service.start({
    name: 'fake-gcs-server',
    command: o.binary,
    args,
    logFile: o.logFile,
    detached: o.detached,
    onSpawn: o.onSpawn,
  });
  await waitUntilReady(service, () => httpOk(`${endpoint}/storage/v1/b`));
  return { service, endpoint, restart: () => startFakeGcs(o) };
}

/** Creates the buckets that do not exist yet, through the real Storage client. */
export async function ensureBuckets(endpoint: string, projectId: string, buckets: readonly string[]): Promise<void> {
  const storage = new Storage({ apiEndpoint: endpoint, projectId, useAuthWithCustomEndpoint: false });
  for (const name of buckets) {
    const [exists] = await storage.bucket(name).exists();
    if (!exists) await storage.createBucket(name);
  }
}
