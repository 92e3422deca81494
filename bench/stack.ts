import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Storage } from '@google-cloud/storage';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { createVertexClientFactory } from '../config/vertex';
import { VertexEmulatorControl } from '../emulators/vertex-ai/control-client';
import { ensureBuckets, startFakeGcs } from '../scripts/stack/gcs-server';
import { hasRecentPoller } from '../scripts/stack/pollers';
import { freePort, Service, waitUntilReady } from '../scripts/stack/process';
import { startTemporalDevServer } from '../scripts/stack/temporal-server';
import { readToolPaths, repoRoot } from '../scripts/stack/tools';
import { startVertexEmulator } from '../scripts/stack/vertex-emulator';
import { compileWorker, workerCommand } from '../scripts/stack/worker-command';
import { bundleOptions } from '../workers/bundle';

// A private stack for a benchmark: dev server (with the metrics endpoint), fake GCS, the Vertex
// emulator on free ports, and the worker (in this process, or as its own) on task queue "bench";
// nothing shared with `npm run dev`.

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

export async function startBenchStack(bucket = 'ct-bench') {
  process.env.METADATA_SERVER_DETECTION = 'none';
  const tools = readToolPaths();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ct-bench-'));
  const ports = {
    t: await freePort(),
    h: await freePort(),
    m: await freePort(),
    g: await freePort(),
    v: await freePort(),
    c: await freePort(),
  };
  const temporal = await startTemporalDevServer({
    binary: tools.temporal,
    ip: '127.0.0.1',
    port: ports.t,
    httpPort: ports.h,
    metricsPort: ports.m,
    namespace: 'ct-bench',
    logFile: path.join(tmp, 'temporal.log'),
  });
  const gcs = await startFakeGcs({ binary: tools.fakeGcsServer, port: ports.g, logFile: path.join(tmp, 'gcs.log') });
  await ensureBuckets(gcs.endpoint, 'ct-bench', [bucket]);
  const storage = new Storage({ apiEndpoint: gcs.endpoint, projectId: 'ct-bench', useAuthWithCustomEndpoint: false });
  const vertexEmu = await startVertexEmulator({
    port: ports.v,
    controlPort: ports.c,
    gcsEndpoint: gcs.endpoint,
    projectId: 'ct-bench',
    logFile: path.join(tmp, 'vertex.log'),
  });
  const control = new VertexEmulatorControl(vertexEmu.controlUrl);
  const vertex = createVertexClientFactory({ VERTEX_API_ENDPOINT: `${vertexEmu.host}:${vertexEmu.port}` });
  const native = await NativeConnection.connect({ address: temporal.address });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: 'ct-bench' });
  const bundle = await bundleWorkflowCode({ ...bundleOptions, logger: quiet });

  /**
   * The production worker (compiled: `node <config.workerNodeOptions> dist/workers/main.js`) as its
   * own process, so its memory is its own: the bench's client, the bundler and the emulators are
   * elsewhere. Peak RSS is the kernel's VmHWM.
   */
  let workers = 0;
  let compiled: Promise<void> | undefined;
  const startWorkerProcess = async (configText: string, extraEnv: Record<string, string> = {}) => {
    const n = workers++;
    // Once per stack: a bench that starts several workers runs the same build.
    await (compiled ??= compileWorker());
    const configFile = path.join(tmp, 'pipelines.json');
    const bundleFile = path.join(tmp, 'workflows-bundle.js');
    writeFileSync(configFile, configText);
    writeFileSync(bundleFile, bundle.code);
    const service = Service.start({
      name: 'worker',
      ...workerCommand('compiled'),
      cwd: repoRoot,
      logFile: path.join(tmp, n === 0 ? 'worker.log' : `worker-${n}.log`),
      env: {
        ...process.env,
        // Exactly the production flags (workerCommand), whatever the bench itself was started with.
        NODE_OPTIONS: '',
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_NAMESPACE: 'ct-bench',
        CT_TASK_QUEUE: 'bench',
        CT_CONFIG: configFile,
        CT_WORKFLOW_BUNDLE: bundleFile,
        GCS_API_ENDPOINT: gcs.endpoint,
        GOOGLE_CLOUD_PROJECT: 'ct-bench',
        VERTEX_API_ENDPOINT: `${vertexEmu.host}:${vertexEmu.port}`,
        ...extraEnv,
      },
    });
    await waitUntilReady(service, () => hasRecentPoller(temporal.address, 'ct-bench', 'bench'), 60_000);
    const statusMb = (field: 'VmHWM' | 'VmRSS') => {
      const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${service.pid}/status`, 'utf8'));
      return kb ? Math.round(Number(kb[1]) / 1024) : undefined;
    };
    /** CPU seconds the process has used (user + system), from /proc/<pid>/stat. */
    const cpuSeconds = () => {
      const fields = readFileSync(`/proc/${service.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      // utime and stime, fields 14 and 15 of stat(5) (11 and 12 after the command name), in clock ticks of 1/100 s.
      return (Number(fields[11]) + Number(fields[12])) / 100;
    };
    return { service, peakRssMb: () => statusMb('VmHWM'), rssMb: () => statusMb('VmRSS'), cpuSeconds };
  };
  return {
    startWorkerProcess,
    temporal,
    storage,
    control,
    client,
    vertex,
    /** For a worker in this process (bench:training measures the workflows, not the worker's memory). */
    native,
    bundle,
    tmp,
    close: async () => {
      await vertex.close();
      await connection.close();
      await native.close();
      await Promise.all([temporal.service.stop(), gcs.service.stop(), vertexEmu.service.stop()]);
    },
  };
}
