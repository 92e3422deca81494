import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { JobProgress, RunPlan } from '../contracts';
import {
  formatDuration,
  parsePayload,
  searchAttributes as sa,
  TrainingRunInput,
  type TrainingJobRef,
  type TrainingRunResult,
  DATA_TIMEOUT,
  TRAINING_JOB_FAILED,
} from '../contracts';
import { TrainingRunState } from './support/training-run-state';
import { publishModel } from './support/publish-model';
import { attemptOf } from './support/legacy-plans';
import { planning, vertexCall } from './support/activity-options';
import { createQueueFor } from '../config/create-queues';
import { VertexJobSupervisor, watchActivity } from './support/vertex-job-supervisor';

// One durable training run per (environment, pipeline, segment, partition). Each attempt's Vertex
// job is owned through workflows/support/vertex-job-supervisor.ts, which also argues the watch's cost.

const { resolveTrainingRun, startCanonicalRun } = proxyActivities<Activities>(planning);
const { cancelTrainingJob } = proxyActivities<Activities>(vertexCall);

/**
 * The run fails with the reason an operator needs at the top (not "Activity task failed"): a
 * non-retryable activity failure is lifted, with the activity's failure kept as the cause.
 */
function runFailure(err: unknown): unknown {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    return ApplicationFailure.create({
      message: err.cause.message,
      type: err.cause.type ?? undefined,
      nonRetryable: true,
      cause: err,
    });
  }
  return err;
}

type Identity = Pick<TrainingRunResult, 'pipeline' | 'environment' | 'partition' | 'segment'>;

export async function trainingRun(rawInput: TrainingRunInput): Promise<TrainingRunResult> {
  const input = parsePayload(TrainingRunInput, rawInput, 'trainingRun input');
  const info = workflowInfo();
  const startedAt = new Date().toISOString();
  const identity: Identity = {
    pipeline: input.pipeline,
    environment: input.environment,
    partition: input.partition,
    segment: input.segment,
  };
  const run = new TrainingRunState(info.workflowId, identity);
  run.installHandlers();

  const plan = await planRun(input, run);
  if (info.workflowId !== plan.workflowId) return delegate(plan, input, identity, startedAt);
  tagRun(plan);
  const supervisor = superviseTrainingJobs(plan, run);

  try {
    if (!input.assumeDataReady) {
      const skipped = await awaitData(plan, run);
      if (skipped)
        return {
          ...identity,
          status: 'skipped',
          reason: skipped,
          timings: { startedAt, endedAt: new Date().toISOString() },
          attempts: 0,
        };
    }
    const dataReadyAt = new Date().toISOString();
    return await trainAttempts({ plan, run, supervisor, identity, runId: info.runId, startedAt, dataReadyAt });
  } catch (err) {
    throw await endedBy(err, supervisor, run);
  }
}

/** The run's plan, from its input and the config; a data-ready waiting for it hears why it cannot be planned. */
async function planRun(input: TrainingRunInput, run: TrainingRunState): Promise<RunPlan> {
  try {
    const plan = await resolveTrainingRun(input);
    run.planned(plan);
    return plan;
  } catch (err) {
    const failure = runFailure(err);
    // patched: runs recorded before left a waiting data-ready unanswered (its caller never heard why).
    if (patched('data-ready-hears-plan-failure')) {
      run.cannotPlan(failure);
      await condition(allHandlersFinished);
    }
    throw failure;
  }
}

/** This run is not the partition's canonical one: it starts (or finds) that one and ends pointing to it. */
async function delegate(
  plan: RunPlan,
  input: TrainingRunInput,
  identity: Identity,
  startedAt: string,
): Promise<TrainingRunResult> {
  const canonical = await startCanonicalRun({
    workflowId: plan.workflowId,
    taskQueue: workflowInfo().taskQueue,
    input,
  });
  return {
    ...identity,
    status: 'delegated',
    delegatedTo: plan.workflowId,
    reason: canonical.alreadyFinished
      ? `partition already ran as ${plan.workflowId}; re-running it is an explicit act`
      : `running as ${plan.workflowId}`,
    timings: { startedAt, endedAt: new Date().toISOString() },
    attempts: 0,
  };
}

/** The search attributes operators find the run by. */
function tagRun(plan: RunPlan): void {
  upsertSearchAttributes([
    { key: sa.pipeline, value: plan.pipeline },
    { key: sa.environment, value: plan.environment },
    { key: sa.partition, value: plan.partition },
    ...(plan.segment ? [{ key: sa.segment, value: plan.segment }] : []),
    ...(plan.country ? [{ key: sa.country, value: plan.country }] : []),
    ...(plan.sns ? [{ key: sa.sns, value: plan.sns }] : []),
  ]);
}

function superviseTrainingJobs(plan: RunPlan, run: TrainingRunState) {
  const awaitTrainingJob = watchActivity((o) => proxyActivities<Activities>(o).awaitTrainingJob, plan.pollChunkMs);
  const region = plan.region;
  const chunkMs = plan.pollChunkMs;
  return new VertexJobSupervisor<TrainingJobRef, JobProgress>(
    {
      watch: (job, pollIntervalMs) => awaitTrainingJob({ job, region, pollIntervalMs, chunkMs }),
      cancel: (job) => cancelTrainingJob({ job, region }),
      onProgress: (progress) => run.jobProgress(progress),
    },
    plan.pollIntervalMs,
  );
}

/** Waits for the plan's datasets; after the data timeout, the reason the run is skipped (or fails, per the plan). */
async function awaitData(plan: RunPlan, run: TrainingRunState): Promise<string | undefined> {
  run.setPhase('waiting-for-data');
  const allReady = await condition(() => run.waitingFor().length === 0, plan.dataTimeoutMs);
  if (allReady) return undefined;
  const reason = `data for partition ${plan.partition} not ready after ${formatDuration(plan.dataTimeoutMs)}; still waiting for ${run.waitingFor().join(', ')}`;
  if (plan.onDataTimeout !== 'skip') throw ApplicationFailure.nonRetryable(reason, DATA_TIMEOUT);
  run.setPhase('skipped', reason);
  return reason;
}

interface Attempts {
  plan: RunPlan;
  run: TrainingRunState;
  supervisor: ReturnType<typeof superviseTrainingJobs>;
  identity: Identity;
  runId: string;
  startedAt: string;
  dataReadyAt: string;
}

/** Up to maxAttempts Vertex jobs, one at a time; the first that succeeds gives the model. */
async function trainAttempts(a: Attempts): Promise<TrainingRunResult> {
  const { plan, run, supervisor } = a;
  // The create queue of the plan's project and region (workers/worker.ts): the server shares Vertex's
  // create quota among the workers. Waiting its turn counts toward scheduleToStart, not startToClose.
  // Replay matches a scheduled activity by id and type only, so runs recorded on the main queue replay.
  const { submitTrainingJob } = proxyActivities<Activities>({
    ...vertexCall,
    taskQueue: createQueueFor(workflowInfo().taskQueue, plan.project, plan.region),
  });
  for (let attempt = 1; attempt <= plan.maxAttempts; attempt++) {
    run.setPhase('submitting');
    const submittedAt = new Date().toISOString();
    const { jobId, outputs } = attemptOf(plan, a.runId, attempt);
    const { job, last } = await supervisor.run(
      () => submitTrainingJob({ plan, attempt, jobId }),
      (submitted) => run.jobSubmitted(submitted),
    );
    if (last.state === 'SUCCEEDED') {
      // patched: runs recorded before the model steps existed replay without them.
      const model =
        plan.model && patched('publish-model')
          ? await publishModel({ plan: { ...plan, model: plan.model }, job, outputs, runId: a.runId, run })
          : undefined;
      if (model?.status !== 'rejected') run.setPhase('succeeded');
      return {
        ...a.identity,
        status: 'succeeded',
        ...model,
        job: { ...last.job, state: last.state },
        outputs,
        timings: {
          startedAt: a.startedAt,
          dataReadyAt: a.dataReadyAt,
          submittedAt,
          jobStartedAt: last.startTime,
          jobEndedAt: last.endTime,
          endedAt: new Date().toISOString(),
        },
        attempts: attempt,
      };
    }
    // FAILED, EXPIRED, PAUSED (cancelled by the supervisor), or CANCELLED by someone outside
    // this run: not a model.
    run.attemptEnded({ attempt, jobName: job.name, state: last.state, error: last.error?.message });
  }
  const lastAttempt = run.status.attempts.at(-1)!;
  const reason = `training failed after ${plan.maxAttempts} attempt(s); last job ${lastAttempt.jobName} ended ${lastAttempt.state}${lastAttempt.error ? `: ${lastAttempt.error}` : ''}`;
  run.setPhase('failed', reason);
  throw ApplicationFailure.nonRetryable(reason, TRAINING_JOB_FAILED);
}

/**
 * What the run ends with after `err`: a cancelled run first cancels its live Vertex job and waits
 * until it ended; any other failure is lifted to the reason an operator needs.
 */
async function endedBy(err: unknown, supervisor: Attempts['supervisor'], run: TrainingRunState): Promise<unknown> {
  if (isCancellation(err)) {
    await CancellationScope.nonCancellable(async () => {
      const cancelled = await supervisor.cancelLive(() => run.setPhase('cancelling'));
      if (cancelled) {
        const { job, last } = cancelled;
        run.attemptEnded({ attempt: job.attempt, jobName: job.name, state: last.state, error: last.error?.message });
      }
      run.setPhase('cancelled');
    });
    return err;
  }
  const failure = runFailure(err);
  if (run.status.phase !== 'failed')
    run.setPhase('failed', failure instanceof Error ? failure.message : String(failure));
  return failure;
}
