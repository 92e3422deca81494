import { randomUUID } from 'node:crypto';
import { monitoringClient } from './vertex';
import { Storage } from '@google-cloud/storage';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type WorkerDeploymentOptions } from '@temporalio/worker';
import type { PipelineConfig } from '../../config/pipeline-config';
import { loadGcpEnv } from '../../config/env';
import type { FlagWatchSettings } from '../../infra/gcs';
import {
  createVertexClientFactory,
  vertexWatchSettings,
  type RegionWatchSettings,
  type VertexClientFactory,
} from '../../infra/vertex/clients';
import type { ReadUsage } from '../../activities/vertex/watch-pace';
import { createWorker } from '../../workers/worker';
import { testStack } from '../setup/test-stack';
import type { IsolatedProject } from './isolation';
import { projectWith } from './pipelines';

/** Ids unique per test, so test files can share one server and run in parallel. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** The real Storage client, pointed at the test stack's fake-gcs-server. */
export function testStorage(): Storage {
  const env = testStack();
  return new Storage({
    apiEndpoint: env.CT_TEST_GCS_ENDPOINT,
    projectId: env.CT_TEST_PROJECT,
    useAuthWithCustomEndpoint: false,
  });
}

export interface WorkerContext {
  client: Client;
  taskQueue: string;
  storage: Storage;
  /** The Vertex project every environment of the worker's config uses: the test's own. */
  project: string;
  /** The worker's config, every environment in that project. */
  config: IsolatedProject['config'];
}

/**
 * Runs `fn` while a real worker (the production createWorker, with real clients against the
 * test stack) polls a task queue of its own; the worker is shut down when `fn` settles. The worker
 * runs the test's project (test/helpers/pipelines.ts projectWith), a config of its own, or no pipeline.
 */
export async function withWorker<R>(
  fn: (ctx: WorkerContext) => Promise<R>,
  opts: {
    taskQueue?: string;
    project?: IsolatedProject;
    config?: PipelineConfig;
    /** Another workflow bundle (a build B of changed workflows) and the deployment version to run it as. */
    workflowBundle?: string;
    deployment?: WorkerDeploymentOptions;
    /** Vertex clients of the test's own (e.g. with a budget it sets); the caller closes them. */
    vertex?: VertexClientFactory;
    /** How a flag watch on this worker lists (infra/gcs.ts); the production defaults when not given. */
    flagWatch?: FlagWatchSettings;
    /** CT_VERTEX_LATE_CREATE_WINDOW_MS for this worker (the sweep for a retried submit's late twins). */
    lateCreateWindowMs?: number;
    /** Settings of the coalesced watch to change from the environment's (e.g. `readShare: 0`, a fixed interval). */
    watch?: Partial<RegionWatchSettings>;
    /**
     * The create queues' rate (CT_VERTEX_CREATES_PER_MINUTE): 600 unless a test paces creates, as the
     * test pipelines' `prediction.createsPerMinute`, so a suite's bursts of creates are not spaced out.
     */
    createsPerMinute?: number;
    /** The main queue's activity slots (workers/worker.ts). */
    maxConcurrentActivities?: number;
  } = {},
): Promise<R> {
  const env = testStack();
  const gcpEnv = loadGcpEnv();
  const watchSettings = vertexWatchSettings(gcpEnv);
  // A config of the test's own (e.g. the fuzz's) is used as it is; otherwise the project's, or one
  // with no pipeline at all for a test that runs none (stack checks, bad input).
  const own = opts.project || opts.config ? undefined : projectWith({});
  const { project, config } = opts.config
    ? { project: firstProject(opts.config), config: opts.config }
    : (opts.project ?? own!);
  const taskQueue = opts.taskQueue ?? uniqueId('tq');
  const storage = testStorage();
  const nativeConnection = await NativeConnection.connect({ address: env.CT_TEST_TEMPORAL_ADDRESS });
  const connection = await Connection.connect({ address: env.CT_TEST_TEMPORAL_ADDRESS });
  const ownVertex = opts.vertex
    ? undefined
    : createVertexClientFactory({ VERTEX_API_ENDPOINT: `${env.CT_TEST_VERTEX_HOST}:${env.CT_TEST_VERTEX_PORT}` });
  const vertex = opts.vertex ?? ownVertex!;
  try {
    const client = new Client({ connection, namespace: env.CT_TEST_NAMESPACE });
    const worker = await createWorker({
      connection: nativeConnection,
      namespace: env.CT_TEST_NAMESPACE,
      taskQueue,
      // CT_VERTEX_WATCH=per-job runs the suites on the per-job watch (the default is coalesced).
      deps: {
        storage,
        vertex,
        monitoring: monitoringClient(),
        config,
        temporal: client,
        watch: watchSettings && { ...watchSettings, ...opts.watch },
        lateCreateWindowMs: opts.lateCreateWindowMs ?? gcpEnv.CT_VERTEX_LATE_CREATE_WINDOW_MS,
        // As workers/main.ts: the watch yields to the worker's other reads (a test's own factory may have no budget).
        ...('budget' in vertex ? { readUsage: vertex.budget as ReadUsage } : {}),
        ...(opts.flagWatch ? { flagWatch: opts.flagWatch } : {}),
      },
      workflowBundle: { codePath: opts.workflowBundle ?? env.CT_TEST_WORKFLOW_BUNDLE },
      deployment: opts.deployment,
      createsPerMinute: opts.createsPerMinute ?? 600,
      maxConcurrentActivities: opts.maxConcurrentActivities,
    });
    return await worker.runUntil(fn({ client, taskQueue, storage, project, config }));
  } finally {
    await ownVertex?.close();
    await connection.close();
    await nativeConnection.close();
    await own?.cleanup();
  }
}

const firstProject = (config: PipelineConfig) =>
  Object.values(Object.values(config.pipelines)[0]?.environments ?? {})[0]?.project ?? '';

/** A client of the test namespace without a worker (for tests whose worker is a separate process). */
export async function connectTestClient(): Promise<{ client: Client; close: () => Promise<void> }> {
  const env = testStack();
  const connection = await Connection.connect({ address: env.CT_TEST_TEMPORAL_ADDRESS });
  return { client: new Client({ connection, namespace: env.CT_TEST_NAMESPACE }), close: () => connection.close() };
}
