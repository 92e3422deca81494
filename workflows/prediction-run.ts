import { ApplicationFailure } from '@temporalio/common';
import {
  CancellationScope,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  isFreshEnough,
  liftInvalidInput,
  parsePayload,
  PredictionRunInput,
  predictionProgressQuery,
  searchAttributes as sa,
  type PredictionSummary,
  type SegmentResult,
  PREDICTION_FAILED,
} from '../contracts';
import { slidingWindow, START_WAVE } from './support/fan-out';
import { serviceCall } from './support/activity-options';
import { childrenPerRunOf } from './support/legacy-plans';
import { PredictionRunState, type PredictionCarry } from './support/prediction-run-state';

export type { PredictionCarry } from './support/prediction-run-state';

// A prediction run per (environment, pipeline, partition): one child per segment, at most
// maxConcurrentJobs in flight (a sliding window: a finished child makes room for the next). Job
// creations are paced by the children's rate-limited create queue, not here.
//
// History: each child costs the parent ~3 events plus its share of workflow tasks. After
// `prediction.childrenPerRun` children (workflows/support/legacy-plans.ts for runs planned before the knob) the
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
/** Children in waves (workflows/support/fan-out.ts); a run started before the patch replays its one burst. */
const START_WAVES = 'prediction-run-starts-in-waves';

const { planPrediction, writePredictionSummary, findChampion } = proxyActivities<Activities>(serviceCall);

export async function predictionRun(rawInput: PredictionRunInput, carry?: PredictionCarry): Promise<PredictionSummary> {
  const input = parsePayload(PredictionRunInput, rawInput, 'predictionRun input');
  const startedAt = carry?.startedAt ?? new Date().toISOString();
  const { plan, queue, results } = carry ?? (await planRun(input));
  const run = new PredictionRunState(input, plan, queue, results, startedAt, carry?.generation ?? 0);
  setHandler(predictionProgressQuery, () => run.progress());
  run.refresh();

  const tasks: Promise<void>[] = [];
  const wave = patched(START_WAVES) ? START_WAVE : undefined;
  try {
    await slidingWindow(
      {
        queue: run.queue,
        maxInFlight: plan.maxConcurrentJobs,
        perRun: childrenPerRunOf(plan),
        ...(wave ? { wave } : {}),
        run: (segment, started) => run.runSegment(segment, started),
        stopped: () => run.stopped,
      },
      tasks,
    );
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // Cancelled: the children were asked to cancel (each cancels its Vertex job); wait for them.
    await CancellationScope.nonCancellable(async () => {
      await Promise.all(tasks);
      run.notStarted('not started: the run was cancelled');
      await endWith(run.summary('cancelled'));
    });
    throw err;
  }

  if (run.queue.length && !run.stopped) await continueAsNew<typeof predictionRun>(input, run.carry());
  run.notStarted('not started: fail-fast stopped the run');
  const p = run.progress();
  const verdict = run.stopped ? 'failed' : p.failed ? 'partial' : 'succeeded';
  const s = run.summary(verdict);
  await endWith(s);
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

/** The first generation's plan: the segments to run, those reused, and the model pinned for all of them. */
async function planRun(input: PredictionRunInput): Promise<Pick<PredictionCarry, 'plan' | 'queue' | 'results'>> {
  const full = await planPrediction(input).catch((err: unknown) => {
    throw liftInvalidInput(err);
  });
  const { segments: _segments, reused: _reused, ...plan } = full;
  upsertSearchAttributes([
    { key: sa.pipeline, value: input.pipeline },
    { key: sa.environment, value: input.environment },
    { key: sa.partition, value: input.partition },
    { key: sa.runPhase, value: 'running' },
  ]);
  const pinned: PredictionCarry['plan'] = plan;
  if (plan.sharedModel && patched(PIN_MODEL)) {
    const champion = await findChampion(plan.sharedModel);
    const bound = plan.maxAgeMs ? { trainedAfter: new Date(Date.now() - plan.maxAgeMs).toISOString() } : {};
    if (champion && isFreshEnough(champion, bound)) pinned.model = `${champion.model}@${champion.version}`;
  }
  const results: SegmentResult[] = full.reused;
  return { plan: pinned, queue: full.segments, results };
}

/** The run's phase and its summary file say how it ended. */
async function endWith(summary: PredictionSummary): Promise<void> {
  upsertSearchAttributes([{ key: sa.runPhase, value: summary.verdict }]);
  await writePredictionSummary({ summary });
}
