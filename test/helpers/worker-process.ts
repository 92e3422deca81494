import path from 'node:path';
import { hasRecentPoller } from '../../scripts/stack/pollers';
import { Service, waitUntilReady } from '../../scripts/stack/process';
import { workerCommand } from '../../scripts/stack/worker-command';
import { testStack } from '../setup/test-stack';
import { testConfigPath, uniqueId } from './temporal';

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
  configPath?: string;
  /** More environment for the worker (e.g. CT_VERTEX_WATCH). */
  env?: Record<string, string>;
}): Promise<Service> {
  const env = testStack();
  const address = opts.address ?? env.CT_TEST_TEMPORAL_ADDRESS;
  const namespace = opts.namespace ?? env.CT_TEST_NAMESPACE;
  const worker = Service.start({
    name: 'worker',
    ...workerCommand('compiled'),
    cwd: root,
    logFile: opts.logFile ?? path.join(env.CT_TEST_TMP_DIR, `${uniqueId('worker')}.log`),
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: namespace,
      CT_TASK_QUEUE: opts.taskQueue,
      CT_CONFIG: opts.configPath ?? testConfigPath,
      CT_WORKFLOW_BUNDLE: env.CT_TEST_WORKFLOW_BUNDLE,
      GCS_API_ENDPOINT: env.CT_TEST_GCS_ENDPOINT,
      GOOGLE_CLOUD_PROJECT: env.CT_TEST_PROJECT,
      VERTEX_API_ENDPOINT: `${env.CT_TEST_VERTEX_HOST}:${env.CT_TEST_VERTEX_PORT}`,
      METADATA_SERVER_DETECTION: 'none',
      ...opts.env,
    },
  });
  await waitUntilReady(worker, () => hasRecentPoller(address, namespace, opts.taskQueue), 60_000);
  return worker;
}
