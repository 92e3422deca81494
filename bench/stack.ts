import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Storage } from '@google-cloud/storage';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { createVertexClientFactory } from '../infra/vertex/clients';
import { VertexEmulatorControl } from '../emulators/vertex-ai/control-client';
import { ensureBuckets, startFakeGcs } from '../stack/gcs-server';
import { hasRecentPoller } from '../stack/pollers';
import { freePort, Service, waitUntilReady } from '../stack/process';
import { startTemporalDevServer } from '../stack/temporal-server';
import { readToolPaths, repoRoot } from '../stack/tools';
import { startVertexEmulator } from '../stack/vertex-emulator';
import { workerAllocatorEnv } from '../stack/allocator';
import { compileWorker, workerCommand } from '../stack/worker-command';
import { bundleOptions } from '../workers/bundle';

// What every bench shares: a private stack (dev server with the metrics endpoint, fake GCS, the
// Vertex emulator on free ports, and the worker, in this process or as its own, on task queue
// "bench"; nothing shared with `npm run dev`), the config pieces the benches' pipelines are made
// of, the server's action counter, and how a bench prints its figures.

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/**
 * Runs a bench: `measure` returns its figures (after stopping what it started), printed on stdout as
 * one JSON object `{ bench, ...figures, node }`; a failure is printed on stderr and exits 1.
 */
export function runBench(bench: string, measure: () => Promise<Record<string, unknown>>): void {
  measure().then(
    (figures) => console.log(JSON.stringify({ bench, ...figures, node: process.version }, null, 2)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}

/** A Temporal dev server of the bench's own on free ports, namespace ct-bench, logging into `tmp`. */
export async function startBenchTemporal(tmp: string) {
  return startTemporalDevServer({
    binary: readToolPaths().temporal,
    ip: '127.0.0.1',
    port: await freePort(),
    httpPort: await freePort(),
    metricsPort: await freePort(),
    namespace: 'ct-bench',
    logFile: path.join(tmp, 'temporal.log'),
  });
}

/** The Temporal actions the server has counted for the ct-bench namespace (its `action` metric). */
export async function serverActions(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return (
    text
      .split('\n')
      // The server writes the namespace's "-" as "_" in the label value.
      .filter((l) => l.startsWith('action{') && l.includes('namespace="ct_bench"'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0)
  );
}

/** The q-quantile of sorted samples (null when there are none). */
export const percentile = (sorted: number[], q: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : null;

export const BENCH_PROJECT = 'ct-bench-project';

/** A bench pipeline's environment in a project and region, polled on task queue "bench". */
export const benchEnvironmentIn = (project: string, region: string) => ({
  project,
  region,
  serviceAccount: `sa@${project}.iam.gserviceaccount.com`,
  pipelineRoot: 'gs://ct-bench/root',
  temporal: { namespace: 'ct-bench', taskQueue: 'bench' },
});

/** The one environment of every bench pipeline: the bench project, polled on task queue "bench". */
export const benchEnvironment = benchEnvironmentIn(BENCH_PROJECT, 'us-central1');

/** A CustomJob training section, for bench pipelines whose training is not what they measure. */
export const benchCustomJob = {
  kind: 'customJob',
  workerPoolSpecs: [{ machineType: 'n1-standard-4', imageUri: 'img' }],
  baseOutputDirectory: 'gs://ct-bench/out',
};

/** n segments as countries × SNS: 2-letter codes AA, AB, … and sns1, sns2, … (≤ 20 SNS), excluding the overflow. */
export function benchSegments(n: number) {
  const snsCount = Math.min(20, n);
  const countries = Array.from({ length: Math.ceil(n / snsCount) }, (_, i) =>
    String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26)),
  );
  const sns = Array.from({ length: snsCount }, (_, i) => `sns${i + 1}`);
  const overflow = countries.length * snsCount - n;
  const exclude = sns.slice(snsCount - overflow).map((s) => ({ country: countries.at(-1)!, sns: s }));
  return { countries, sns, exclude };
}

export async function startBenchStack(bucket = 'ct-bench') {
  process.env.METADATA_SERVER_DETECTION = 'none';
  const tools = readToolPaths();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ct-bench-'));
  const ports = { g: await freePort(), v: await freePort(), c: await freePort() };
  const temporal = await startBenchTemporal(tmp);
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
        // Exactly the production flags (workerCommand) and allocator, whatever the bench itself was started with.
        NODE_OPTIONS: '',
        ...workerAllocatorEnv(),
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_NAMESPACE: 'ct-bench',
        CT_TASK_QUEUE: 'bench',
        CT_CONFIG: configFile,
        CT_WORKFLOW_BUNDLE: bundleFile,
        GCS_API_ENDPOINT: gcs.endpoint,
        GOOGLE_CLOUD_PROJECT: 'ct-bench',
        VERTEX_API_ENDPOINT: `${vertexEmu.host}:${vertexEmu.port}`,
        MONITORING_API_ENDPOINT: `${vertexEmu.host}:${vertexEmu.port}`,
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
    /** Cloud Monitoring: the emulator serves it on its gRPC port. */
    monitoringEndpoint: `${vertexEmu.host}:${vertexEmu.port}`,
    vertexEndpoint: `${vertexEmu.host}:${vertexEmu.port}`,
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

/** A champion for a bench's prediction runs, registered directly: the benches measure prediction only. */
export async function registerBenchChampion(
  stack: Awaited<ReturnType<typeof startBenchStack>>,
  modelId: string,
  where: { project: string; region: string } = { project: BENCH_PROJECT, region: 'us-central1' },
): Promise<void> {
  const [op] = await stack.vertex(where.region).models.uploadModel({
    parent: `projects/${where.project}/locations/${where.region}`,
    modelId,
    model: {
      displayName: modelId,
      artifactUri: 'gs://ct-bench/model/',
      containerSpec: { imageUri: 'img' },
      versionAliases: ['champion'],
    },
  });
  await op.promise();
}
