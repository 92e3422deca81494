import { ApplicationFailure, type SearchAttributePair } from '@temporalio/common';
import {
  CancellationScope,
  ChildWorkflowCancellationType,
  ChildWorkflowFailure,
  isCancellation,
  ParentClosePolicy,
  setCurrentDetails,
  startChild,
} from '@temporalio/workflow';
import {
  predictionSegmentId,
  searchAttributes as sa,
  type PredictionPlan,
  type PredictionProgress,
  type PredictionRunInput,
  type PredictionSummary,
  type SegmentResult,
} from '../../contracts';
import { predictionSegment } from '../prediction-segment';

// A prediction run's segments: those still queued, those running as children and the results of
// those that ended; the progress query, the UI's details and the summary are read from here.

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

export class PredictionRunState {
  private readonly results = new Map<string, SegmentResult>();
  private readonly running = new Set<string>();
  /** Fail-fast cancels the children through this scope; the parent's own cancel reaches it too. */
  private readonly children = new CancellationScope();
  /** Fail-fast stopped the run: nothing more starts. */
  stopped = false;

  constructor(
    private readonly input: PredictionRunInput,
    readonly plan: PredictionCarry['plan'],
    /** The segments not started yet (the sliding window takes from it). */
    readonly queue: string[],
    results: SegmentResult[],
    private readonly startedAt: string,
    private readonly generation: number,
  ) {
    for (const r of results) this.results.set(r.segment, r);
  }

  progress(): PredictionProgress {
    const count = (o: SegmentResult['outcome']) => [...this.results.values()].filter((r) => r.outcome === o).length;
    return {
      total: this.queue.length + this.running.size + this.results.size,
      pending: this.queue.length,
      running: this.running.size,
      succeeded: count('succeeded'),
      failed: count('failed'),
      cancelled: count('cancelled'),
      reused: count('reused'),
    };
  }

  /** The UI's current details follow the progress. */
  refresh(): void {
    const { input } = this;
    const p = this.progress();
    const failed = [...this.results.values()].filter((r) => r.outcome === 'failed');
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
  }

  /** One segment's child run to its end; its result (or why it failed) is recorded, never thrown. */
  async runSegment(segment: string, started: () => void = () => {}): Promise<void> {
    this.running.add(segment);
    this.refresh();
    try {
      this.ended(segment, await this.children.run(() => this.executeSegment(segment, started)));
    } catch (err) {
      const r = failedResult(segment, err);
      this.ended(segment, r);
      if (r.outcome === 'failed' && this.plan.onFailure === 'fail-fast' && !this.stopped) {
        this.stopped = true;
        this.children.cancel();
      }
    } finally {
      this.running.delete(segment);
      this.refresh();
    }
  }

  /** The segments still queued end with this reason, never started. */
  notStarted(error: string): void {
    for (const s of this.queue.splice(0)) this.results.set(s, { segment: s, outcome: 'cancelled', error });
  }

  carry(): PredictionCarry {
    const { plan, queue, startedAt } = this;
    return { plan, queue, results: [...this.results.values()], startedAt, generation: this.generation + 1 };
  }

  summary(verdict: PredictionSummary['verdict']): PredictionSummary {
    const { input, plan } = this;
    return {
      environment: input.environment,
      pipeline: input.pipeline,
      partition: input.partition,
      verdict,
      progress: this.progress(),
      segments: [...this.results.values()].sort((a, b) => a.segment.localeCompare(b.segment)),
      summaryUri: plan.summaryUri,
      ...(plan.sharedModel && plan.model ? { model: plan.model } : {}),
      startedAt: this.startedAt,
      endedAt: new Date().toISOString(),
      generations: this.generation + 1,
    };
  }

  private ended(segment: string, r: SegmentResult): void {
    this.results.set(segment, r);
    // The first model a segment reports is pinned for the segments not started yet.
    if (this.plan.sharedModel && !this.plan.model && r.model) this.plan.model = r.model;
  }

  /** The segment's child, started (the same command executeChild makes) and then awaited to its result. */
  private async executeSegment(segment: string, started: () => void): Promise<SegmentResult> {
    const { input, plan } = this;
    const [country, sns] = segment.split('-');
    const searchAttributes: SearchAttributePair[] = [
      { key: sa.pipeline, value: input.pipeline },
      { key: sa.environment, value: input.environment },
      { key: sa.partition, value: input.partition },
      { key: sa.segment, value: segment },
      { key: sa.country, value: country!.toUpperCase() },
      { key: sa.sns, value: sns! },
    ];
    const child = await startChild(predictionSegment, {
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
    });
    started();
    return child.result();
  }
}
