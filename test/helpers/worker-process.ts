import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { loadTemporalEnv } from '../../config/env';
import { temporalConnectConfig } from '../../config/temporal';
import { hasRecentPoller } from '../../stack/pollers';
import { Service, waitUntilReady } from '../../stack/process';
import { workerAllocatorEnv } from '../../stack/allocator';
import { workerCommand } from '../../stack/worker-command';
import { testStack } from '../setup/test-stack';
import { uniqueId } from './temporal';

const root = path.join(__dirname, '..', '..');

/**
 * The production worker (dist/workers/main.js, compiled by the global setup) as its own process,
 * so a test can SIGKILL it the way a node or container dies, and start another.
 */
export async function startWorkerProcess(opts: {
  taskQueue: string;
  address?: string;
  namespace?: string;
  logFile?: string;
  /** The test's own config (`iso.configPath`), routed to `taskQueue` for the worker. */
  configPath: string;
  /** More environment for the worker (e.g. CT_METRICS_ADDRESS, CT_VERTEX_WATCH). */
  env?: NodeJS.ProcessEnv;
}): Promise<Service> {
  const env = testStack();
  const address = opts.address ?? env.CT_TEST_TEMPORAL_ADDRESS;
  const namespace = opts.namespace ?? env.CT_TEST_NAMESPACE;
  const configPath = routedConfig(opts.configPath, namespace, opts.taskQueue, env.CT_TEST_TMP_DIR);
  const workerEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_OPTIONS: '',
    ...workerAllocatorEnv(),
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: namespace,
    CT_TASK_QUEUE: opts.taskQueue,
    CT_CONFIG: configPath,
    CT_WORKFLOW_BUNDLE: env.CT_TEST_WORKFLOW_BUNDLE,
    GCS_API_ENDPOINT: env.CT_TEST_GCS_ENDPOINT,
    GOOGLE_CLOUD_PROJECT: env.CT_TEST_PROJECT,
    VERTEX_API_ENDPOINT: `${env.CT_TEST_VERTEX_HOST}:${env.CT_TEST_VERTEX_PORT}`,
    MONITORING_API_ENDPOINT: env.CT_TEST_MONITORING_ENDPOINT,
    METADATA_SERVER_DETECTION: 'none',
    ...opts.env,
  };
  const worker = Service.start({
    name: 'worker',
    ...workerCommand('compiled'),
    cwd: root,
    logFile: opts.logFile ?? path.join(env.CT_TEST_TMP_DIR, `${uniqueId('worker')}.log`),
    env: workerEnv,
  });
  // Asked the way the worker connects (TLS and its client certificate included, when its environment has them).
  const connection = () => temporalConnectConfig(loadTemporalEnv(workerEnv), workerEnv).options;
  await waitUntilReady(worker, () => hasRecentPoller(connection(), namespace, opts.taskQueue), 60_000);
  return worker;
}

/**
 * The config with every environment routed to the test's namespace and task queue: the worker
 * takes both from the config (config/worker-target.ts), as in production, and the variables above
 * restate them.
 */
function routedConfig(file: string, namespace: string, taskQueue: string, dir: string): string {
  const config = parseDocument(readFileSync(file, 'utf8'), { merge: true }).toJS() as {
    pipelines: Record<string, { environments: Record<string, { temporal?: unknown }> }>;
  };
  for (const pipeline of Object.values(config.pipelines)) {
    for (const env of Object.values(pipeline.environments)) env.temporal = { namespace, taskQueue };
  }
  const out = path.join(dir, `${uniqueId('config')}.json`);
  writeFileSync(out, JSON.stringify(config));
  return out;
}
