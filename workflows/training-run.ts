import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { JobProgress, RunPlan } from '../contracts';
import {
  checkDataReady,
  dataReadyUpdate,
  formatDuration,
  invalidInput,
  parsePayload,
  searchAttributes as sa,
  TrainingRunInput,
  trainingStatusQuery,
  type DatasetStatus,
  type TrainingJobRef,
  type TrainingPhase,
  type TrainingRunResult,
  type TrainingRunStatus,
  DATA_TIMEOUT,
  TRAINING_JOB_FAILED,
} from '../contracts';
import { installApprovalHandlers } from './approval';
import { publishModel } from './publish-model';
import { currentDetails, jobIdFor } from './training-run-view';
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
  const status: TrainingRunStatus = { ...identity, phase: 'resolving', datasets: [], attempts: [] };
  const ready = new Map<string, DatasetStatus>();
  // Set by the resolve activity; the handlers below may run before it has returned.
  let plan: RunPlan | undefined;
  // Why the run cannot be planned: a data-ready waiting for the plan is answered with it.
  let unplannable: unknown;
  let dataReadyAt: string | undefined;

  const refresh = () => {
    if (plan) status.datasets = plan.datasets.map((d) => ready.get(d) ?? { dataset: d, ready: false });
    setCurrentDetails(currentDetails(status, plan));
  };
  const setPhase = (phase: TrainingPhase, reason?: string) => {
    status.phase = phase;
    status.reason = reason;
    // One upsert per phase change: each is a billable action, so phases are few and coarse.
    upsertSearchAttributes([{ key: sa.runPhase, value: phase }]);
    refresh();
  };
  const waitingFor = () => (plan ? plan.datasets.filter((d) => !ready.has(d)) : []);
  const unknownDataset = (dataset: string) =>
    plan && !plan.datasets.includes(dataset)
      ? `dataset: run ${info.workflowId} does not wait for dataset "${dataset}"; it waits for ${plan.datasets.join(', ')}`
      : undefined;

  setHandler(trainingStatusQuery, () => status);
  installApprovalHandlers(info.workflowId, status);
  setHandler(
    dataReadyUpdate,
    async (raw) => {
      const args = checkDataReady(raw, input.partition);
      // Data-ready may arrive with the start (update-with-start), before the plan is known.
      await condition(() => plan !== undefined || unplannable !== undefined);
      if (!plan) throw unplannable;
      const unknown = unknownDataset(args.dataset);
      if (unknown) throw invalidInput(unknown);
      const accepted = !ready.has(args.dataset);
      if (accepted) {
        ready.set(args.dataset, {
          dataset: args.dataset,
          ready: true,
          uri: args.uri,
          source: args.source,
          at: new Date().toISOString(),
        });
        refresh();
      }
      return { workflowId: info.workflowId, accepted, waitingFor: waitingFor(), phase: status.phase };
    },
    {
      validator: (raw) => {
        // Once the plan is known, a dataset the run does not wait for is refused here, out of history.
        const unknown = unknownDataset(checkDataReady(raw, input.partition).dataset);
        if (unknown) throw new Error(unknown);
      },
    },
  );
  refresh();

  try {
    plan = await resolveTrainingRun(input);
  } catch (err) {
    const failure = runFailure(err);
    // patched: runs recorded before left a waiting data-ready unanswered (its caller never heard why).
    if (patched('data-ready-hears-plan-failure')) {
      unplannable = failure;
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
        if (!progress.terminal) refresh();
      },
    },
    plan.pollIntervalMs,
  );

  try {
    if (!input.assumeDataReady) {
      setPhase('waiting-for-data');
      const allReady = await condition(() => waitingFor().length === 0, plan.dataTimeoutMs);
      if (!allReady) {
        const reason = `data for partition ${plan.partition} not ready after ${formatDuration(plan.dataTimeoutMs)}; still waiting for ${waitingFor().join(', ')}`;
        if (plan.onDataTimeout === 'skip') {
          setPhase('skipped', reason);
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
      setPhase('submitting');
      const submittedAt = new Date().toISOString();
      const attemptPlan = plan;
      const { job, last } = await supervisor.run(
        () => submitTrainingJob({ plan: attemptPlan, attempt, jobId: jobIdFor(attemptPlan, info.runId, attempt) }),
        (submitted) => {
          status.job = submitted;
          setPhase('running');
        },
      );
      if (last.state === 'SUCCEEDED') {
        const t = plan.training;
        const dir =
          t.kind === 'pipelineJob'
            ? `${t.pipelineRoot.replace(/\/+$/, '')}/${job.id}`
            : t.baseOutputDirectory.replace(/\/+$/, '');
        const outputs = { outputDirectory: dir, metricsUri: `${dir}/metrics.json`, modelDirectory: `${dir}/model/` };
        // patched: runs recorded before the model steps existed replay without them.
        const model =
          plan.model && patched('publish-model')
            ? await publishModel({
                plan: { ...plan, model: plan.model },
                job,
                outputs,
                runId: info.runId,
                status,
                setPhase,
              })
            : undefined;
        if (model?.status !== 'rejected') setPhase('succeeded');
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
    setPhase('failed', reason);
    throw ApplicationFailure.nonRetryable(reason, TRAINING_JOB_FAILED);
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        const cancelled = await supervisor.cancelLive(() => setPhase('cancelling'));
        if (cancelled) {
          const { job, last } = cancelled;
          status.attempts.push({
            attempt: job.attempt,
            jobName: job.name,
            state: last.state,
            error: last.error?.message,
          });
        }
        setPhase('cancelled');
      });
      throw err;
    }
    const failure = runFailure(err);
    if (status.phase !== 'failed') setPhase('failed', failure instanceof Error ? failure.message : String(failure));
    throw failure;
  }
}
