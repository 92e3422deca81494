// Starts one real Temporal dev server and one fake-gcs-server, on free ports, for the whole jest
// run, and bundles the workflow code once for every test worker.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Storage } from '@google-cloud/storage';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ensureBuckets, startFakeGcs } from '../../stack/gcs-server';
import { freePort, type Service } from '../../stack/process';
import { startTemporalDevServer } from '../../stack/temporal-server';
import { readToolPaths } from '../../stack/tools';
import { startVertexEmulator } from '../../stack/vertex-emulator';
import { compileWorker } from '../../stack/worker-command';
import { bundleOptions } from '../../workers/bundle';
import type { TestStackEnvVars } from './test-stack';

declare global {
  var __CT_TEST_SERVICES__: Service[] | undefined;
}

export default async function globalSetup(): Promise<void> {
  const t0 = Date.now();
  const tools = readToolPaths();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ct-test-'));
  const namespace = 'ct-test';
  const project = 'ct-test-project';
  const bucket = 'ct-test-bucket';
  const [port, httpPort, metricsPort, gcsPort, vertexPort, vertexControlPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  // The Google clients must not probe the GCE metadata server: there is none here.
  process.env.METADATA_SERVER_DETECTION = 'none';
  // Known from their spawn: jest runs no teardown when set-up fails, so a failure stops them here.
  const services: Service[] = (globalThis.__CT_TEST_SERVICES__ = []);
  const onSpawn = (s: Service) => void services.push(s);
  try {
    await startStack();
  } catch (err) {
    await Promise.all(services.map((s) => s.stop()));
    throw err;
  }

  async function startStack(): Promise<void> {
    const [temporal, gcs, bundle] = await Promise.all([
      startTemporalDevServer({
        binary: tools.temporal,
        ip: '127.0.0.1',
        port: port,
        httpPort: httpPort,
        metricsPort: metricsPort,
        namespace,
        logFile: path.join(tmp, 'temporal.log'),
        onSpawn,
      }),
      startFakeGcs({
        binary: tools.fakeGcsServer,
        port: gcsPort,
        logFile: path.join(tmp, 'fake-gcs-server.log'),
        onSpawn,
      }),
      bundleWorkflowCode({ ...bundleOptions, logger: quietLogger }),
      // The tests that kill and restart worker processes run the compiled worker, as production does.
      compileWorker(),
    ]);
    await ensureBuckets(gcs.endpoint, project, [bucket]);
    // The compiled KFP spec the test config's pipelineSpecUri names.
    await new Storage({ apiEndpoint: gcs.endpoint, projectId: project, useAuthWithCustomEndpoint: false })
      .bucket(bucket)
      .upload(path.join(__dirname, '..', 'fixtures', 'kfp', 'training-pipeline.yaml'), {
        destination: 'specs/training-pipeline.yaml',
        resumable: false,
      });
    const vertex = await startVertexEmulator({
      port: vertexPort,
      controlPort: vertexControlPort,
      gcsEndpoint: gcs.endpoint,
      projectId: project,
      logFile: path.join(tmp, 'vertex-ai-emulator.log'),
      onSpawn,
    });

    const bundlePath = path.join(tmp, 'workflow-bundle.js');
    writeFileSync(bundlePath, bundle.code);

    const env: TestStackEnvVars = {
      CT_TEST_TEMPORAL_ADDRESS: temporal.address,
      CT_TEST_TEMPORAL_HTTP_URL: temporal.httpUrl,
      CT_TEST_TEMPORAL_METRICS_URL: temporal.metricsUrl,
      CT_TEST_NAMESPACE: namespace,
      CT_TEST_GCS_ENDPOINT: gcs.endpoint,
      CT_TEST_GCS_BUCKET: bucket,
      CT_TEST_PROJECT: project,
      CT_TEST_VERTEX_HOST: vertex.host,
      CT_TEST_VERTEX_PORT: String(vertex.port),
      CT_TEST_VERTEX_CONTROL_URL: vertex.controlUrl,
      CT_TEST_MONITORING_ENDPOINT: `${vertex.host}:${vertex.port}`,
      CT_TEST_WORKFLOW_BUNDLE: bundlePath,
      CT_TEST_TMP_DIR: tmp,
    };
    Object.assign(process.env, env);
    console.log(
      `\ntest stack up in ${Date.now() - t0} ms: temporal ${temporal.address}, fake-gcs ${gcs.endpoint}, vertex ${vertex.host}:${vertex.port}, logs in ${tmp}`,
    );
  }
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
