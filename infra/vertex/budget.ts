import { status } from '@grpc/grpc-js';

// A worker's budget of Vertex AI calls per project and region, in Vertex's two per-minute quota
// buckets (the emulator enforces the same: emulators/vertex-ai/policy.ts). Each (project, region,
// bucket) keeps the times of its calls of the last 60 s: a call goes at once while fewer than the
// quota's calls were made in the last 60 s, else it reserves the moment the oldest of them leaves
// the window, so no 60 s window ever holds more than the quota and a burst under it never waits.
// Hand-written rather than `limiter` or `bottleneck`: both count tokens or a reservoir refilled on
// a fixed clock, which either spaces a burst (a token bucket) or lets two windows' worth straddle
// a refresh (a fixed window); an exact sliding window is this log of at most `perMinute` times.
// A 429 from Vertex means the quota is spent by someone else too (another caller, the console) or
// is lower than configured: that bucket halves its quota (down to 1/4), and doubles back each
// minute without a 429. A call that would wait longer than `maxWaitMs` fails at once with
// RESOURCE_EXHAUSTED, which every caller already rides out as a 429 (the watches poll on,
// activities retry with backoff), instead of holding its activity past its timeout.

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

/** Vertex counts its quotas per minute. */
export const WINDOW_MS = 60_000;
/**
 * Vertex stamps a call when it arrives, a few ms to a connection's set-up after the budget let it
 * go, and a burst's first calls arrive later than a lone call a minute on: a call's slot is freed a
 * second after the minute, so that jitter cannot put one call too many in Vertex's window.
 */
export const SKEW_MS = 1_000;
/** A quota below a quarter of what is configured is a configuration to fix, not one to creep along under. */
const MIN_FACTOR = 1 / 4;
/** Vertex's quotas are per minute: a minute without a 429 earns back a doubling. */
const RECOVER_MS = 60_000;
/** Every call in flight when the quota runs out sees the 429: one cut per second, not one per call. */
const CUT_SPACING_MS = 1_000;

/** What a caller gets when the budget has no room soon enough: a 429 that never reached Vertex. */
export class VertexBudgetSpent extends Error {
  override name = 'VertexBudgetSpent';
  readonly code = status.RESOURCE_EXHAUSTED;
  constructor(readonly details: string) {
    super(details);
  }
}

/** One (project, region, bucket)'s calls of the last minute: its quota halves after a 429 (down to 1/4) and doubles back each minute without one. */
class SlidingWindow {
  /** When each call of the last minute went, or will go (a reservation), in order. */
  private readonly times: number[] = [];
  factor = 1;
  lastCut = -Infinity;

  constructor(readonly perMinute: number) {}

  get ratePerMinute(): number {
    return Math.max(1, Math.round(this.perMinute * this.factor));
  }

  cut(now: number) {
    if (now - this.lastCut < CUT_SPACING_MS) return;
    this.factor = Math.max(MIN_FACTOR, this.factor / 2);
    this.lastCut = now;
  }

  recover(now: number) {
    if (this.factor < 1 && now - this.lastCut >= RECOVER_MS) {
      this.factor = Math.min(1, this.factor * 2);
      this.lastCut = now;
    }
  }

  /** Calls made (or reserved) in the 60 s before `now`. */
  used(now: number): number {
    this.forget(now);
    return this.times.filter((t) => t > now - WINDOW_MS).length;
  }

  /** The moment a call asked for now may go: now, or when the call `rate` places back has left the window. */
  nextSlot(now: number): number {
    this.forget(now);
    const rate = this.ratePerMinute;
    const last = this.times.at(-1) ?? now;
    const freed = this.times.length >= rate ? this.times[this.times.length - rate]! + WINDOW_MS + SKEW_MS : now;
    return Math.max(now, last, freed);
  }

  record(at: number) {
    this.times.push(at);
  }

  private forget(now: number) {
    let stale = 0;
    while (stale < this.times.length && this.times[stale]! <= now - WINDOW_MS - SKEW_MS) stale++;
    if (stale) this.times.splice(0, stale);
  }
}

const envVar: Record<BudgetBucket, string> = {
  read: 'CT_VERTEX_READS_PER_MINUTE',
  create: 'CT_VERTEX_CREATES_PER_MINUTE',
};

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve());

export class VertexBudget {
  private readonly limits = new Map<string, SlidingWindow>();
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
    const slot = limit.nextSlot(started);
    if (slot - started > this.settings.maxWaitMs) this.refuse(project, region, bucket, slot - started, limit);
    limit.record(slot);
    await sleep(slot - performance.now());
    this.observer?.waited(region, bucket, performance.now() - started);
  }

  private refuse(project: string, region: string, bucket: BudgetBucket, waitMs: number, limit: SlidingWindow): never {
    this.observer?.refused(region, bucket);
    throw new VertexBudgetSpent(
      `this worker's Vertex ${bucket} budget for projects/${project}/locations/${region} has no room for ${Math.ceil(waitMs / 1000)} s (${envVar[bucket]}: ${limit.perMinute}, now ${limit.ratePerMinute}/min after 429s); try again later`,
    );
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

  /**
   * Calls this worker made, or has let wait for their moment, in the last 60 s: what a caller that
   * adapts to others (the region watch) reads to leave room for them. Read-only.
   */
  usedInLastMinute(project: string, region: string, bucket: BudgetBucket): number {
    return this.limitOf(project, region, bucket).used(performance.now());
  }

  private limitOf(project: string, region: string, bucket: BudgetBucket): SlidingWindow {
    const key = `${this.projectNumbers.get(project) ?? project}/${region}/${bucket}`;
    let limit = this.limits.get(key);
    if (!limit) {
      limit = new SlidingWindow(bucket === 'read' ? this.settings.readsPerMinute : this.settings.createsPerMinute);
      this.limits.set(key, limit);
      this.observer?.opened(region, bucket);
    }
    return limit;
  }
}
