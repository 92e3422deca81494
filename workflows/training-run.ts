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
import { TrainingRunState } from './training-run-state';
import { publishModel } from './publish-model';
import { attemptOf } from './legacy-plans';
import { planning, vertexCall } from './activity-options';
import { jobWatchOptions, VertexJobSupervisor } from './vertex-job-supervisor';

// One durable training run per (environment, pipeline, segment, partition). Each attempt's Vertex
// job is owned through workflows/vertex-job-supervisor.ts, which also argues the watch's cost.

const { resolveTrainingRun, startCanonicalRun } = proxyActivities<Activities>(planning);
const { submitTrainingJob, cancelTrainingJob } = proxyActivities<Activities>(vertexCall);

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

export async function trainingRun(rawInput: TrainingRunInput): Promise<TrainingRunResult> {
  const input = parsePayload(TrainingRunInput, rawInput, 'trainingRun input');
  const info = workflowInfo();
  const startedAt = new Date().toISOString();
  const identity = {
    pipeline: input.pipeline,
    environment: input.environment,
    partition: input.partition,
    segment: input.segment,
  };
  const run = new TrainingRunState(info.workflowId, identity);
  const { status } = run;
  let dataReadyAt: string | undefined;
  run.installHandlers();

  let plan: RunPlan;
  try {
    plan = await resolveTrainingRun(input);
    run.planned(plan);
  } catch (err) {
    const failure = runFailure(err);
    // patched: runs recorded before left a waiting data-ready unanswered (its caller never heard why).
    if (patched('data-ready-hears-plan-failure')) {
      run.cannotPlan(failure);
      await condition(allHandlersFinished);
    }
    throw failure;
  }
  if (info.workflowId !== plan.workflowId) {
    const canonical = await startCanonicalRun({ workflowId: plan.workflowId, taskQueue: info.taskQueue, input });
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
  upsertSearchAttributes([
    { key: sa.pipeline, value: plan.pipeline },
    { key: sa.environment, value: plan.environment },
    { key: sa.partition, value: plan.partition },
    ...(plan.segment ? [{ key: sa.segment, value: plan.segment }] : []),
    ...(plan.country ? [{ key: sa.country, value: plan.country }] : []),
    ...(plan.sns ? [{ key: sa.sns, value: plan.sns }] : []),
  ]);

  const { awaitTrainingJob } = proxyActivities<Activities>(jobWatchOptions(plan.pollChunkMs));
  const region = plan.region;
  const chunkMs = plan.pollChunkMs;
  const supervisor = new VertexJobSupervisor<TrainingJobRef, JobProgress>(
    {
      watch: (job, pollIntervalMs) => awaitTrainingJob({ job, region, pollIntervalMs, chunkMs }),
      cancel: (job) => cancelTrainingJob({ job, region }),
      onProgress: (progress) => {
        status.job = progress.job;
        if (!progress.terminal) run.refresh();
      },
    },
    plan.pollIntervalMs,
  );

  try {
    if (!input.assumeDataReady) {
      run.setPhase('waiting-for-data');
      const allReady = await condition(() => run.waitingFor().length === 0, plan.dataTimeoutMs);
      if (!allReady) {
        const reason = `data for partition ${plan.partition} not ready after ${formatDuration(plan.dataTimeoutMs)}; still waiting for ${run.waitingFor().join(', ')}`;
        if (plan.onDataTimeout === 'skip') {
          run.setPhase('skipped', reason);
          return {
            ...identity,
            status: 'skipped',
            reason,
            timings: { startedAt, endedAt: new Date().toISOString() },
            attempts: 0,
          };
        }
        throw ApplicationFailure.nonRetryable(reason, DATA_TIMEOUT);
      }
    }
    dataReadyAt = new Date().toISOString();

    for (let attempt = 1; attempt <= plan.maxAttempts; attempt++) {
      run.setPhase('submitting');
      const submittedAt = new Date().toISOString();
      const { jobId, outputs } = attemptOf(plan, info.runId, attempt);
      const { job, last } = await supervisor.run(
        () => submitTrainingJob({ plan, attempt, jobId }),
        (submitted) => {
          status.job = submitted;
          run.setPhase('running');
        },
      );
      if (last.state === 'SUCCEEDED') {
        // patched: runs recorded before the model steps existed replay without them.
        const model =
          plan.model && patched('publish-model')
            ? await publishModel({
                plan: { ...plan, model: plan.model },
                job,
                outputs,
                runId: info.runId,
                run,
              })
            : undefined;
        if (model?.status !== 'rejected') run.setPhase('succeeded');
        return {
          ...identity,
          status: 'succeeded',
          ...model,
          job: { ...last.job, state: last.state },
          outputs,
          timings: {
            startedAt,
            dataReadyAt,
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
      status.attempts.push({ attempt, jobName: job.name, state: last.state, error: last.error?.message });
    }
    const lastAttempt = status.attempts.at(-1)!;
    const reason = `training failed after ${plan.maxAttempts} attempt(s); last job ${lastAttempt.jobName} ended ${lastAttempt.state}${lastAttempt.error ? `: ${lastAttempt.error}` : ''}`;
    run.setPhase('failed', reason);
    throw ApplicationFailure.nonRetryable(reason, TRAINING_JOB_FAILED);
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        const cancelled = await supervisor.cancelLive(() => run.setPhase('cancelling'));
        if (cancelled) {
          const { job, last } = cancelled;
          status.attempts.push({
            attempt: job.attempt,
            jobName: job.name,
            state: last.state,
            error: last.error?.message,
          });
        }
        run.setPhase('cancelled');
      });
      throw err;
    }
    const failure = runFailure(err);
    if (status.phase !== 'failed') run.setPhase('failed', failure instanceof Error ? failure.message : String(failure));
    throw failure;
  }
}
