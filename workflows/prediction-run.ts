import { ApplicationFailure, type SearchAttributePair } from '@temporalio/common';
import {
  CancellationScope,
  ChildWorkflowCancellationType,
  ChildWorkflowFailure,
  continueAsNew,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PredictionPlan } from '../contracts';
import {
  isFreshEnough,
  liftInvalidInput,
  parsePayload,
  PredictionRunInput,
  predictionProgressQuery,
  predictionSegmentId,
  searchAttributes as sa,
  type PredictionProgress,
  type PredictionSummary,
  type SegmentResult,
  PREDICTION_FAILED,
} from '../contracts';
import { slidingWindow } from './fan-out';
import { predictionSegment } from './prediction-segment';
import { serviceCall } from './activity-options';
import { childrenPerRunOf } from './legacy-plans';

// A prediction run per (environment, pipeline, partition): one child per segment, at most
// maxConcurrentJobs in flight (a sliding window: a finished child makes room for the next). Job
// creations are paced by the children's rate-limited create queue, not here.
//
// History: each child costs the parent ~3 events plus its share of workflow tasks. After
// `prediction.childrenPerRun` children (workflows/legacy-plans.ts for runs planned before the knob) the
// run drains its window and continues as new with the results so far, so 1,000 segments never come
// near the history limits. Draining first means no child is in flight across the continue-as-new,
// so the REQUEST_CANCEL parent-close policy always reaches the children of the run an operator
// cancels.
//
// One model per run: when one model serves every segment, the run reads its champion once, before
// the fan-out, and every child predicts with that version (carried across continue-as-new), so a
// promotion mid-run cannot split the partition across versions. With `model.maxAge`, freshness is
// judged once, at the start: a champion fresh enough then is pinned even if the run outlives
// maxAge (the run predicts one partition, with one model). If none is fresh enough, nothing is
// pinned yet: started segments wait for model-ready as before, and the first version a segment
// reports is pinned for the segments not yet started (segments already waiting all receive the same
// announcement, so they agree unless two promotions land within one wait). A pipeline with a model
// per segment has nothing to split: each model serves one segment, which looks it up at its start
// (reading 1,000 champions up front would spend Vertex's ~600 reads/minute quota in one burst).

const PIN_MODEL = 'prediction-run-pins-model';

const { planPrediction, writePredictionSummary, findChampion } = proxyActivities<Activities>(serviceCall);

/** What a run hands to its continuation. */
export interface PredictionCarry {
  /** `model`: the pinned model@version, once known. */
  plan: Omit<PredictionPlan, 'segments' | 'reused'> & { model?: string };
  queue: string[];
  results: SegmentResult[];
  startedAt: string;
  generation: number;
}

function failedResult(segment: string, err: unknown): SegmentResult {
  const cause = err instanceof ChildWorkflowFailure ? err.cause : err;
  if (isCancellation(err)) return { segment, outcome: 'cancelled', error: 'cancelled' };
  const detail = cause instanceof ApplicationFailure ? (cause.details?.[0] as SegmentResult | undefined) : undefined;
  return {
    segment,
    outcome: 'failed',
    ...detail,
    error: detail?.error ?? (cause instanceof Error ? cause.message : String(cause)),
  };
}

export async function predictionRun(rawInput: PredictionRunInput, carry?: PredictionCarry): Promise<PredictionSummary> {
  const input = parsePayload(PredictionRunInput, rawInput, 'predictionRun input');
  const startedAt = carry?.startedAt ?? new Date().toISOString();
  let plan: PredictionCarry['plan'];
  let queue: string[];
  const results = new Map<string, SegmentResult>();
  if (carry) {
    ({ plan, queue } = carry);
    for (const r of carry.results) results.set(r.segment, r);
  } else {
    const full = await planPrediction(input).catch((err: unknown) => {
      throw liftInvalidInput(err);
    });
    const { segments: _segments, reused: _reused, ...rest } = full;
    plan = rest;
    queue = full.segments;
    for (const r of full.reused) results.set(r.segment, r);
    upsertSearchAttributes([
      { key: sa.pipeline, value: input.pipeline },
      { key: sa.environment, value: input.environment },
      { key: sa.partition, value: input.partition },
      { key: sa.runPhase, value: 'running' },
    ]);
    if (plan.sharedModel && patched(PIN_MODEL)) {
      const champion = await findChampion(plan.sharedModel);
      const bound = plan.maxAgeMs ? { trainedAfter: new Date(Date.now() - plan.maxAgeMs).toISOString() } : {};
      if (champion && isFreshEnough(champion, bound)) plan.model = `${champion.model}@${champion.version}`;
    }
  }
  const pinFrom = (r: SegmentResult) => {
    if (plan.sharedModel && !plan.model && r.model) plan.model = r.model;
  };
  const running = new Set<string>();

  const progress = (): PredictionProgress => {
    const count = (o: SegmentResult['outcome']) => [...results.values()].filter((r) => r.outcome === o).length;
    return {
      total: queue.length + running.size + results.size,
      pending: queue.length,
      running: running.size,
      succeeded: count('succeeded'),
      failed: count('failed'),
      cancelled: count('cancelled'),
      reused: count('reused'),
    };
  };
  const refresh = () => {
    const p = progress();
    const failed = [...results.values()].filter((r) => r.outcome === 'failed');
    setCurrentDetails(
      [
        `**Batch prediction** · ${input.pipeline} · ${input.environment} · partition ${input.partition}`,
        '',
        `| pending | running | succeeded | failed | cancelled | reused |`,
        `|---|---|---|---|---|---|`,
        `| ${p.pending} | ${p.running} | ${p.succeeded} | ${p.failed} | ${p.cancelled} | ${p.reused} |`,
        ...(failed.length
          ? [
              '',
              'Failed:',
              ...failed.slice(0, 20).map((f) => `- ${f.segment}: ${f.error ?? f.state}`),
              ...(failed.length > 20 ? [`- … ${failed.length - 20} more`] : []),
            ]
          : []),
      ].join('\n'),
    );
  };
  setHandler(predictionProgressQuery, progress);
  refresh();

  // Fail-fast cancels the children through this scope; the parent's own cancel reaches it too.
  const children = new CancellationScope();
  let stopped = false;
  const runChild = async (segment: string) => {
    running.add(segment);
    refresh();
    const [country, sns] = segment.split('-');
    const searchAttributes: SearchAttributePair[] = [
      { key: sa.pipeline, value: input.pipeline },
      { key: sa.environment, value: input.environment },
      { key: sa.partition, value: input.partition },
      { key: sa.segment, value: segment },
      { key: sa.country, value: country!.toUpperCase() },
      { key: sa.sns, value: sns! },
    ];
    try {
      const r = await children.run(() =>
        executeChild(predictionSegment, {
          workflowId: predictionSegmentId({ ...input, segment }),
          args: [
            {
              environment: input.environment,
              pipeline: input.pipeline,
              partition: input.partition,
              segment,
              ...(plan.model ? { model: plan.model } : {}),
            },
          ],
          // Cancelled, never terminated: a child cancels its Vertex job; the parent waits until it has.
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
          typedSearchAttributes: searchAttributes,
          staticSummary: `Prediction ${input.pipeline} · ${segment} · ${input.partition}`,
        }),
      );
      results.set(segment, r);
      pinFrom(r);
    } catch (err) {
      const r = failedResult(segment, err);
      results.set(segment, r);
      pinFrom(r);
      if (r.outcome === 'failed' && plan.onFailure === 'fail-fast' && !stopped) {
        stopped = true;
        children.cancel();
      }
    } finally {
      running.delete(segment);
      refresh();
    }
  };

  const summary = (verdict: PredictionSummary['verdict']): PredictionSummary => ({
    environment: input.environment,
    pipeline: input.pipeline,
    partition: input.partition,
    verdict,
    progress: progress(),
    segments: [...results.values()].sort((a, b) => a.segment.localeCompare(b.segment)),
    summaryUri: plan.summaryUri,
    ...(plan.sharedModel && plan.model ? { model: plan.model } : {}),
    startedAt,
    endedAt: new Date().toISOString(),
    generations: (carry?.generation ?? 0) + 1,
  });

  const tasks: Promise<void>[] = [];
  try {
    await slidingWindow(
      {
        queue,
        maxInFlight: plan.maxConcurrentJobs,
        perRun: childrenPerRunOf(plan),
        run: runChild,
        stopped: () => stopped,
      },
      tasks,
    );
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // Cancelled: the children were asked to cancel (each cancels its Vertex job); wait for them.
    await CancellationScope.nonCancellable(async () => {
      await Promise.all(tasks);
      for (const s of queue.splice(0))
        results.set(s, { segment: s, outcome: 'cancelled', error: 'not started: the run was cancelled' });
      const s = summary('cancelled');
      upsertSearchAttributes([{ key: sa.runPhase, value: 'cancelled' }]);
      await writePredictionSummary({ summary: s });
    });
    throw err;
  }

  if (queue.length && !stopped) {
    await continueAsNew<typeof predictionRun>(input, {
      plan,
      queue,
      results: [...results.values()],
      startedAt,
      generation: (carry?.generation ?? 0) + 1,
    });
  }
  for (const s of queue.splice(0))
    results.set(s, { segment: s, outcome: 'cancelled', error: 'not started: fail-fast stopped the run' });
  const p = progress();
  const verdict = stopped ? 'failed' : p.failed ? 'partial' : 'succeeded';
  const s = summary(verdict);
  upsertSearchAttributes([{ key: sa.runPhase, value: verdict }]);
  await writePredictionSummary({ summary: s });
  if (verdict === 'failed') {
    const first = s.segments.find((r) => r.outcome === 'failed');
    throw ApplicationFailure.create({
      message: `fail-fast: ${first?.segment} failed (${first?.error}); ${p.cancelled} segment(s) cancelled; summary at ${plan.summaryUri}`,
      type: PREDICTION_FAILED,
      nonRetryable: true,
      details: [s],
    });
  }
  return s;
}
