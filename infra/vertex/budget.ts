import { status } from '@grpc/grpc-js';
import { TokenBucket } from 'limiter';

// A worker's budget of Vertex AI calls per project and region, in Vertex's two per-minute quota
// buckets (the emulator enforces the same: emulators/vertex-ai/policy.ts). Each (project, region, bucket) is a token bucket from
// `limiter` that holds at most `burst` tokens and refills `perMinute − burst` a minute, so no 60 s
// window ever holds more than `perMinute` calls: the bucket's content at the window's start plus
// one minute's refill. A 429 from Vertex means the quota is spent by someone else too (another
// worker, the console) or is lower than configured: that bucket drains and halves its rate (down
// to 1/4), and doubles back each minute without a 429. A call that would wait longer than
// `maxWaitMs` fails at once with RESOURCE_EXHAUSTED, which every caller already rides out as a 429
// (the watches poll on, activities retry with backoff), instead of holding its activity past its
// timeout.

/** `read`: Vertex's "Resource management (CRUD) requests"; `create`: "Job or LRO submission requests". */
export type BudgetBucket = 'read' | 'create';

export interface VertexBudgetSettings {
  readsPerMinute: number;
  createsPerMinute: number;
  maxWaitMs: number;
}

/** Where the budget's waits and refusals are reported (infra/vertex/call-metrics.ts). */
export interface BudgetObserver {
  /** A project and region's bucket is first used: its refusal count starts at 0, so `increase()` sees the first refusal. */
  opened(region: string, bucket: BudgetBucket): void;
  waited(region: string, bucket: BudgetBucket, ms: number): void;
  refused(region: string, bucket: BudgetBucket): void;
}

/** A quota below a quarter of what is configured is a configuration to fix, not one to creep along under. */
const MIN_FACTOR = 1 / 4;
/** Vertex's quotas are per minute: a minute without a 429 earns back a doubling. */
const RECOVER_MS = 60_000;
/** Every call in flight when the quota runs out sees the 429: one cut per second, not one per call. */
const CUT_SPACING_MS = 1_000;

/** What a caller gets when this worker's own budget has no room soon enough: a 429 that never reached Vertex. */
export class VertexBudgetSpent extends Error {
  override name = 'VertexBudgetSpent';
  readonly code = status.RESOURCE_EXHAUSTED;
  constructor(readonly details: string) {
    super(details);
  }
}

/** One (project, region, bucket)'s token bucket: its rate halves after a 429 (down to 1/4) and doubles back each minute without one. */
class AdaptiveTokenBucket {
  readonly burst: number;
  readonly bucket: TokenBucket;
  factor = 1;
  lastCut = -Infinity;
  queued = 0;

  constructor(readonly perMinute: number) {
    this.burst = Math.max(1, Math.floor(perMinute / 60));
    this.bucket = new TokenBucket({
      bucketSize: this.burst,
      tokensPerInterval: Math.max(1, perMinute - this.burst),
      interval: 'minute',
    });
    // Full from the start: a worker's first call waits for nothing, and a window still holds ≤ perMinute.
    this.bucket.content = this.burst;
  }

  get ratePerMinute(): number {
    return this.bucket.tokensPerInterval;
  }

  private setFactor(factor: number, now: number) {
    this.bucket.drip(); // what was earned so far, at the old rate
    this.factor = factor;
    this.lastCut = now;
    this.bucket.tokensPerInterval = Math.max(1, Math.round((this.perMinute - this.burst) * factor));
  }

  cut(now: number) {
    if (now - this.lastCut < CUT_SPACING_MS) return;
    this.setFactor(Math.max(MIN_FACTOR, this.factor / 2), now);
    this.bucket.content = 0;
  }

  recover(now: number) {
    if (this.factor < 1 && now - this.lastCut >= RECOVER_MS) this.setFactor(Math.min(1, this.factor * 2), now);
  }

  /** The wait a call queued now would see: the next token, then one refill per caller ahead of it. */
  expectedWaitMs(): number {
    return this.bucket.getWaitTime(1) + this.queued * (60_000 / this.ratePerMinute);
  }
}

const envVar: Record<BudgetBucket, string> = {
  read: 'CT_VERTEX_READS_PER_MINUTE',
  create: 'CT_VERTEX_CREATES_PER_MINUTE',
};

export class VertexBudget {
  private readonly limits = new Map<string, AdaptiveTokenBucket>();
  /** A project id → the number Vertex names it by in its answers: both spend one quota. */
  private readonly projectNumbers = new Map<string, string>();

  constructor(
    readonly settings: VertexBudgetSettings,
    private readonly observer?: BudgetObserver,
  ) {}

  /** Waits for room for one call, or throws VertexBudgetSpent when that would take longer than maxWaitMs. */
  async take(project: string, region: string, bucket: BudgetBucket): Promise<void> {
    const limit = this.limitOf(project, region, bucket);
    const started = performance.now();
    limit.recover(started);
    const expected = limit.expectedWaitMs();
    if (expected > this.settings.maxWaitMs) {
      this.observer?.refused(region, bucket);
      throw new VertexBudgetSpent(
        `this worker's Vertex ${bucket} budget for projects/${project}/locations/${region} has no room for ${Math.ceil(expected / 1000)} s (${envVar[bucket]}: ${limit.perMinute}, now ${limit.ratePerMinute}/min after 429s); try again later`,
      );
    }
    limit.queued++;
    try {
      await limit.bucket.removeTokens(1);
    } finally {
      limit.queued--;
    }
    this.observer?.waited(region, bucket, performance.now() - started);
  }

  /** Vertex answered RESOURCE_EXHAUSTED: this project and region slow down. */
  resourceExhausted(project: string, region: string, bucket: BudgetBucket): void {
    this.limitOf(project, region, bucket).cut(performance.now());
  }

  /** Vertex named `id`'s resources with `number`: from now on both take from one budget. */
  sameProject(id: string, number: string): void {
    if (id === number || this.projectNumbers.get(id) === number) return;
    this.projectNumbers.set(id, number);
    for (const [key, limit] of [...this.limits]) {
      if (!key.startsWith(`${id}/`)) continue;
      this.limits.delete(key);
      const merged = `${number}/${key.slice(id.length + 1)}`;
      if (!this.limits.has(merged)) this.limits.set(merged, limit);
    }
  }

  /** Calls a minute the bucket now allows (lower than configured after 429s). */
  ratePerMinute(project: string, region: string, bucket: BudgetBucket): number {
    return this.limitOf(project, region, bucket).ratePerMinute;
  }

  private limitOf(project: string, region: string, bucket: BudgetBucket): AdaptiveTokenBucket {
    const key = `${this.projectNumbers.get(project) ?? project}/${region}/${bucket}`;
    let limit = this.limits.get(key);
    if (!limit) {
      limit = new AdaptiveTokenBucket(
        bucket === 'read' ? this.settings.readsPerMinute : this.settings.createsPerMinute,
      );
      this.limits.set(key, limit);
      this.observer?.opened(region, bucket);
    }
    return limit;
  }
}
