import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  CancellationScope,
  ChildWorkflowCancellationType,
  ChildWorkflowFailure,
  isCancellation,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setCurrentDetails,
  startChild,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  liftInvalidInput,
  parsePayload,
  TrainingFanoutInput,
  trainingRunId,
  type TrainingFanoutResult,
} from '../contracts';
import { slidingWindow, START_WAVE } from './support/fan-out';
import { trainingRun } from './training-run';
import { planning } from './support/activity-options';

// Trains every segment of a partition with the machinery of batch prediction: one trainingRun
// child per segment under its own canonical id (so data-ready from Airflow and operators reach the
// same runs), at most `fanOut.maxConcurrentRuns` at once. A segment whose run already exists
// (started by data-ready) is reported as such; its run goes on by itself.

const { planTrainingFanout } = proxyActivities<Activities>(planning);

export async function trainingFanout(rawInput: TrainingFanoutInput): Promise<TrainingFanoutResult> {
  const input = parsePayload(TrainingFanoutInput, rawInput, 'trainingFanout input');
  const plan = await planTrainingFanout(input).catch((err: unknown) => {
    throw liftInvalidInput(err);
  });
  const runs = new Map<string, SegmentRun>();
  const queue = [...plan.segments];
  const show = () => showProgress(input, queue, runs);
  const run = async (segment: string, started: () => void) => {
    const workflowId = trainingRunId({ ...input, segment });
    runs.set(segment, { segment, workflowId, outcome: 'running' });
    show();
    runs.set(segment, await trainSegment(input, segment, workflowId, started));
    show();
  };

  const tasks: Promise<void>[] = [];
  const result = (verdict: TrainingFanoutResult['verdict']): TrainingFanoutResult => ({
    verdict,
    runs: [...runs.values()].sort((a, b) => a.segment.localeCompare(b.segment)),
  });
  try {
    // A partition has at most a few hundred segments: one run of this workflow holds them all.
    // Children in waves (workflows/support/fan-out.ts); a fan-out started before the patch replays its one burst.
    const wave = patched('training-fanout-starts-in-waves') ? START_WAVE : undefined;
    await slidingWindow(
      {
        queue,
        maxInFlight: plan.maxConcurrentRuns,
        perRun: Number.MAX_SAFE_INTEGER,
        ...(wave ? { wave } : {}),
        run,
        stopped: () => false,
      },
      tasks,
    );
  } catch (err) {
    if (!isCancellation(err)) throw err;
    await CancellationScope.nonCancellable(() => Promise.all(tasks));
    throw err;
  }
  return result(
    [...runs.values()].some((r) => r.outcome === 'failed' || r.outcome === 'cancelled') ? 'partial' : 'succeeded',
  );
}

type SegmentRun = TrainingFanoutResult['runs'][number];

/** One segment's training run, as a child under its canonical id, started (then `started`) and followed to its end. */
async function trainSegment(
  input: TrainingFanoutInput,
  segment: string,
  workflowId: string,
  started: () => void,
): Promise<SegmentRun> {
  try {
    const child = await startChild(trainingRun, {
      workflowId,
      args: [
        {
          pipeline: input.pipeline,
          environment: input.environment,
          partition: input.partition,
          segment,
          assumeDataReady: input.assumeDataReady,
        },
      ],
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      staticSummary: `Training ${input.pipeline} · ${input.environment} · ${segment} · ${input.partition}`,
    });
    started();
    const r = await child.result();
    return {
      segment,
      workflowId,
      outcome: r.status,
      reason: r.reason,
      model: r.model && `${r.model.name}@${r.model.version}`,
    };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      return {
        segment,
        workflowId,
        outcome: 'already-started',
        reason: 'started before this fan-out (data-ready or an operator); it goes on by itself',
      };
    if (isCancellation(err)) return { segment, workflowId, outcome: 'cancelled' };
    return {
      segment,
      workflowId,
      outcome: 'failed',
      reason: (err instanceof ChildWorkflowFailure ? err.cause : (err as Error))?.message,
    };
  }
}

/** The UI's current details: how many segments are pending, and how those that ran ended. */
function showProgress(input: TrainingFanoutInput, queue: string[], runs: Map<string, SegmentRun>): void {
  const counts: Record<string, number> = {};
  for (const r of runs.values()) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
  setCurrentDetails(
    `**Training every segment** · ${input.pipeline} · ${input.environment} · partition ${input.partition}\n\n` +
      `pending ${queue.length} · ${
        Object.entries(counts)
          .map(([k, v]) => `${k} ${v}`)
          .join(' · ') || 'nothing finished yet'
      }`,
  );
}
