import { ApplicationFailure } from '@temporalio/common';
import {
  CancellationScope,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { BatchJobRef, BatchProgress, SegmentPlan } from '../contracts';
import {
  BATCH_PREDICTION_FAILED,
  formatDuration,
  liftInvalidInput,
  modelKey,
  NO_MODEL,
  parsePayload,
  PredictionSegmentInput,
  searchAttributes as sa,
  type SegmentResult,
} from '../contracts';
import { createQueueFor } from '../config/create-queues';
import { awaitFreshModel, modelReadyInbox } from './support/model-wait';
import { serviceCall, vertexCall } from './support/activity-options';
import { VertexJobSupervisor, watchActivity } from './support/vertex-job-supervisor';

// One segment's batch prediction, a child of predictionRun. It owns its BatchPredictionJob: finds
// its model (the champion, or waits for a fresh one holding no compute), submits through the
// rate-limited create queue of its project and region, and supervises the job as a training
// attempt does (workflows/support/vertex-job-supervisor.ts): watched in chunks, cancelled on Vertex when
// the child is cancelled, waited for until it has ended.

const { resolveSegmentPrediction, cancelBatchPrediction } = proxyActivities<Activities>(serviceCall);

export async function predictionSegment(rawInput: PredictionSegmentInput): Promise<SegmentResult> {
  const input = parsePayload(PredictionSegmentInput, rawInput, 'predictionSegment input');
  const info = workflowInfo();
  const plan: SegmentPlan = await resolveSegmentPrediction(input).catch((err: unknown) => {
    throw liftInvalidInput(err);
  });
  const show = (text: string) =>
    setCurrentDetails(
      `**${input.segment}** · ${input.pipeline} · ${input.environment} · partition ${input.partition}\n\n${text}`,
    );

  // The model: the one the run pinned; else the champion, if fresh enough; otherwise wait for a
  // training run to announce one.
  const modelVersion = input.model ?? (await findModel(input, plan, show));

  const { submitBatchPrediction } = proxyActivities<Activities>({
    ...vertexCall,
    // Waiting its turn on the rate-limited queue counts toward scheduleToStart, not startToClose.
    taskQueue: createQueueFor(info.taskQueue, plan.project, plan.region),
  });
  const awaitBatchPrediction = watchActivity(
    (o) => proxyActivities<Activities>(o).awaitBatchPrediction,
    plan.pollChunkMs,
  );
  const { region, pollChunkMs: chunkMs } = plan;
  const supervisor = new VertexJobSupervisor<BatchJobRef, BatchProgress>(
    {
      watch: (job, pollIntervalMs) => awaitBatchPrediction({ job, region, pollIntervalMs, chunkMs }),
      cancel: (job) => cancelBatchPrediction({ job, region }),
    },
    plan.pollIntervalMs,
  );

  let owned: { job: BatchJobRef; last: BatchProgress };
  try {
    // The label is the child's run id: a retried submit finds its job, a re-run of the segment makes a new one.
    owned = await supervisor.run(
      () => submitBatchPrediction({ plan, model: modelVersion, label: info.runId }),
      (job) => show(`Vertex AI BatchPredictionJob with ${modelVersion} — [open in the console](${job.consoleUrl})`),
    );
  } catch (err) {
    if (isCancellation(err)) await CancellationScope.nonCancellable(() => supervisor.cancelLive());
    throw err;
  }
  const { job, last } = owned;

  const result: SegmentResult = {
    segment: input.segment,
    outcome: 'succeeded',
    state: last.state,
    job: job.name,
    consoleUrl: job.consoleUrl,
    model: modelVersion,
    outputUri: last.outputUri,
    counts: last.counts,
    error: last.error?.message,
  };
  const ok =
    last.state === 'SUCCEEDED' || (last.state === 'PARTIALLY_SUCCEEDED' && plan.partiallySucceeded === 'succeeded');
  show(
    `${last.state}: ${job.name}${last.counts ? ` · ${last.counts.successful} predicted, ${last.counts.failed} failed` : ''}`,
  );
  if (!ok) {
    // A failed child shows red in the UI; its result rides along as the failure's details.
    const message = `${input.segment}: BatchPredictionJob ${job.id} ended ${last.state}${last.error ? `: ${last.error.message}` : ''}`;
    throw ApplicationFailure.create({
      message,
      type: BATCH_PREDICTION_FAILED,
      nonRetryable: true,
      details: [{ ...result, outcome: 'failed', error: message }],
    });
  }
  return result;
}

async function findModel(
  input: PredictionSegmentInput,
  plan: SegmentPlan,
  show: (text: string) => void,
): Promise<string> {
  const key = modelKey(plan.modelKey);
  const bound = plan.maxAgeMs ? { trainedAfter: new Date(Date.now() - plan.maxAgeMs).toISOString() } : {};
  const inbox = modelReadyInbox(key, bound);
  if (plan.maxAgeMs) upsertSearchAttributes([{ key: sa.awaitingModel, value: key }]);
  const model = await awaitFreshModel({
    ref: plan.model,
    key: plan.modelKey,
    bound,
    inbox,
    // Without maxAge any champion will do: one look, no wait.
    deadline: Date.now() + (plan.maxAgeMs ? plan.waitTimeoutMs : 0),
    recheckMs: 3_600_000,
    onLook: (_, seen) => show(`Waiting for a model fresh enough (${key}): ${seen}.`),
  });
  if ('timedOut' in model) {
    throw ApplicationFailure.nonRetryable(
      `no model to predict ${input.segment} with: ${model.seen}${plan.maxAgeMs ? ` (want one registered in the last ${formatDuration(plan.maxAgeMs)})` : ''}`,
      NO_MODEL,
    );
  }
  return `${model.model}@${model.version}`;
}
