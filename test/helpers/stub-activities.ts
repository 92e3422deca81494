import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import {
  trainingOutputs,
  trainingRunId,
  type JobProgress,
  type ModelPlan,
  type RunPlan,
  type TrainingJobRef,
  type TrainingRunInput,
} from '../../contracts';
import { createQueueFor } from '../../config/create-queues';
import { testStack } from '../setup/test-stack';
import { uniquePartition } from './isolation';
import { uniqueId } from './temporal';

// Orchestration on the real dev server with the activities stubbed: the workflow code (the
// bundle production runs) decides, the stubs answer in-process and record what they were asked.
// Seconds per branch, where the same branch end to end waits on the emulator's job clock.

export type StubbedActivities = Partial<Activities>;

const STUB_PROJECT = 'stub-project';
const STUB_REGION = 'us-central1';

/** Runs `fn` while a worker with only `activities` polls a task queue of its own. */
export async function withStubbedWorker<R>(
  activities: StubbedActivities,
  fn: (ctx: { client: Client; taskQueue: string }) => Promise<R>,
): Promise<R> {
  const env = testStack();
  const taskQueue = uniqueId('tq-stub');
  const nativeConnection = await NativeConnection.connect({ address: env.CT_TEST_TEMPORAL_ADDRESS });
  const connection = await Connection.connect({ address: env.CT_TEST_TEMPORAL_ADDRESS });
  try {
    const worker = await Worker.create({
      connection: nativeConnection,
      namespace: env.CT_TEST_NAMESPACE,
      taskQueue,
      workflowBundle: { codePath: env.CT_TEST_WORKFLOW_BUNDLE },
      activities,
    });
    // The stub plan's creates run on its project and region's create queue, as workers/worker.ts polls it.
    const creates = await Worker.create({
      connection: nativeConnection,
      namespace: env.CT_TEST_NAMESPACE,
      taskQueue: createQueueFor(taskQueue, STUB_PROJECT, STUB_REGION),
      activities,
    });
    const client = new Client({ connection, namespace: env.CT_TEST_NAMESPACE });
    return await creates.runUntil(worker.runUntil(fn({ client, taskQueue })));
  } finally {
    await connection.close();
    await nativeConnection.close();
  }
}

/** A run of a pipeline no other test has, assumed to have its data unless the test says otherwise. */
export function stubRun(input: Partial<TrainingRunInput> = {}): TrainingRunInput & { workflowId: string } {
  const run = {
    pipeline: uniqueId('orch'),
    environment: 'staging',
    partition: uniquePartition(),
    assumeDataReady: true,
    ...input,
  };
  return { ...run, workflowId: trainingRunId(run) };
}

/**
 * The plan resolveTrainingRun would return for `run`: a CustomJob, no data to wait for, one
 * attempt, fast polling, unless `over` says otherwise. What a test depends on, it names in `over`.
 */
export function stubPlan(run: ReturnType<typeof stubRun>, over: Partial<RunPlan> = {}): RunPlan {
  const training: RunPlan['training'] = {
    kind: 'customJob',
    displayName: run.pipeline,
    baseOutputDirectory: `gs://stub/${run.pipeline}`,
    workerPoolSpecs: [{ machineType: 'n1-standard-4', replicaCount: 1, imageUri: 'img' }],
  };
  const plan: RunPlan = {
    workflowId: run.workflowId,
    pipeline: run.pipeline,
    environment: run.environment,
    partition: run.partition,
    project: STUB_PROJECT,
    region: STUB_REGION,
    serviceAccount: 'sa@stub-project.iam.gserviceaccount.com',
    labels: {},
    datasets: [],
    dataTimeoutMs: 60_000,
    onDataTimeout: 'fail',
    maxAttempts: 1,
    pollIntervalMs: 100,
    pollChunkMs: 3_000,
    training,
    ...over,
  };
  const attempts = Array.from({ length: plan.maxAttempts }, (_, i) => {
    const jobId = `${run.pipeline}-job-${i + 1}`;
    return { jobId, outputs: trainingOutputs(plan.training, jobId) };
  });
  return { ...plan, attempts: over.attempts ?? attempts };
}

/** A model step that promotes directly; the gate has nothing to check unless the test adds thresholds. */
export function stubModelPlan(over: Partial<ModelPlan> = {}): ModelPlan {
  return {
    metricsFile: 'metrics.json',
    thresholds: [],
    modelId: 'stub-model',
    displayName: 'stub model',
    servingImage: 'img',
    labels: {},
    uploadTimeoutMs: 60_000,
    promotion: { mode: 'direct' },
    ...over,
  };
}

export type Call = { activity: string; args: unknown };

/**
 * Vertex as a script: attempt n's job ends in `ends[n - 1]` (one look; FAILED carries an error).
 * Every submit, watch and cancel is recorded in `calls`, in order.
 */
export function scriptedTrainingJobs(ends: string[], calls: Call[]): StubbedActivities {
  return {
    submitTrainingJob: ({ plan, attempt, jobId }) => {
      calls.push({ activity: 'submitTrainingJob', args: { attempt, jobId } });
      return Promise.resolve<TrainingJobRef>({
        kind: plan.training.kind,
        name: `projects/1/locations/${plan.region}/customJobs/${jobId}`,
        id: jobId,
        attempt,
        consoleUrl: `https://console.invalid/${jobId}`,
      });
    },
    awaitTrainingJob: ({ job }) => {
      const state = ends[job.attempt - 1] ?? 'SUCCEEDED';
      calls.push({ activity: 'awaitTrainingJob', args: { attempt: job.attempt, state } });
      return Promise.resolve<JobProgress>({
        job,
        state,
        terminal: true,
        ...(state === 'FAILED' ? { error: { code: 9, message: `attempt ${job.attempt} failed` } } : {}),
      });
    },
    cancelTrainingJob: ({ job }) => {
      calls.push({ activity: 'cancelTrainingJob', args: { attempt: job.attempt } });
      return Promise.resolve();
    },
  };
}

/** The names of the recorded calls, in order (what most orchestration assertions compare). */
export const sequence = (calls: Call[]) => calls.map((c) => `${c.activity} ${JSON.stringify(c.args)}`);
