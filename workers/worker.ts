import { AsyncCompletionClient } from '@temporalio/client';
import { type NativeConnection, Worker, type WorkerDeploymentOptions, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { ReleasedWatches } from '../activities/vertex/released-watches';
import { activityLogContext } from '../observability/activity-log-context';
import { createQueuesOf } from '../config/create-queues';
import { vertexBudgetDefaults } from '../config/env';
import { bundleOptions } from './bundle';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A prebuilt bundle (production, tests); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** The deployment version it runs as (workers/versioning.ts); unversioned when unset. */
  deployment?: WorkerDeploymentOptions;
  /** CT_MAX_CACHED_WORKFLOWS; the SDK's default (sized from V8's heap limit) when unset. */
  maxCachedWorkflows?: number;
  /** The main queue's activity slots (1,000): submits, cancels, registry calls; a watch holds none. */
  maxConcurrentActivities?: number;
  /** CT_VERTEX_CREATES_PER_MINUTE: the creates a project and region gets, shared by every worker. */
  createsPerMinute?: number;
}

/** The main worker and the rate-limited create workers beside it, run and stopped together. */
export interface Workers {
  run(): Promise<void>;
  runUntil<R>(p: Promise<R> | (() => Promise<R>)): Promise<R>;
}

/** The one way workers are put together, shared by the process entry point, the tests and the benches. */
export async function createWorker(opts: CreateWorkerOptions): Promise<Workers> {
  const released = opts.deps.watch
    ? new ReleasedWatches(
        new AsyncCompletionClient({ connection: opts.connection, namespace: opts.namespace }),
        (m, a) => console.warn(`vertex watch: ${m}`, a),
      )
    : undefined;
  const activities = createActivities({ ...opts.deps, released });
  const main = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities,
    ...(opts.deployment ? { workerDeploymentOptions: opts.deployment } : {}),
    interceptors: {
      activity: [activityLogContext],
      ...(opts.workflowBundle ? {} : { workflowModules: bundleOptions.workflowInterceptorModules }),
    },
    // With the coalesced watch a running Vertex job holds no slot (its watch is released:
    // activities/vertex/released-watches.ts); the per-job watch holds one per job it reads.
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 1000,
    // A cached run costs its sandbox state in the workflow thread's heap (~0.35 MB here) and its
    // state machines in the SDK's core; the SDK sizes the cache from V8's heap limit, so a worker
    // holding 1,000 waiting runs kept them all. A run waiting on a Vertex job has a workflow task
    // at its submit and at its end (a 15-minute chunk's hand-over is a retry, no task): evicted in
    // between, it is replayed once from its short history. So CT_MAX_CACHED_WORKFLOWS bounds the
    // cache (100) instead of sizing it to the runs in flight; bench:scale measures RSS and lag.
    ...(opts.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: opts.maxCachedWorkflows } : {}),
    ...(opts.workflowBundle
      ? { workflowBundle: opts.workflowBundle }
      : {
          workflowsPath: bundleOptions.workflowsPath,
          bundlerOptions: { preloadModules: bundleOptions.preloadModules },
        }),
  });
  // Vertex limits job creations per project and region (~60 a minute), whoever makes them. Every
  // Vertex job's create (a training attempt's, a prediction segment's) runs on the create queue of
  // its project and region, whose `maxTaskQueueActivitiesPerSecond` is that budget: the server
  // enforces it across every worker polling the queue (one partition each: stack/dynamic-config.ts),
  // so one worker alone creates at the whole budget and N workers together never exceed it.
  const creators = await Promise.all(
    createQueuesOf(
      opts.deps.config,
      opts.taskQueue,
      opts.createsPerMinute ?? vertexBudgetDefaults.createsPerMinute,
    ).map(({ queue, perMinute }) =>
      Worker.create({
        connection: opts.connection,
        namespace: opts.namespace,
        taskQueue: queue,
        activities: {
          submitTrainingJob: activities.submitTrainingJob.bind(activities),
          submitBatchPrediction: activities.submitBatchPrediction.bind(activities),
        },
        // The same version as the main worker: a pinned run's activities on this queue go to its build.
        ...(opts.deployment ? { workerDeploymentOptions: opts.deployment } : {}),
        interceptors: { activity: [activityLogContext] },
        maxTaskQueueActivitiesPerSecond: perMinute / 60,
        maxConcurrentActivityTaskExecutions: 20,
      }),
    ),
  );
  return {
    run: async () => {
      // Each resolves after SIGINT/SIGTERM, once the SDK's runtime has drained its in-flight tasks;
      // the watches it let go of are handed to the next attempt while the connection is still open.
      try {
        await Promise.all([main, ...creators].map((w) => w.run()));
      } finally {
        await released?.handOver();
      }
    },
    runUntil: async <R>(p: Promise<R> | (() => Promise<R>)) => {
      try {
        return await creators.reduce((inner, w) => w.runUntil(inner), main.runUntil(typeof p === 'function' ? p() : p));
      } finally {
        await released?.handOver();
      }
    },
  };
}
