import type { MetricMeter } from '@temporalio/common';
import type { VertexBudget } from '../../infra/vertex/budget';
import type { RegionWatchSettings } from '../../infra/vertex/clients';
import { metrics as m } from '../../observability/metrics';

// How often the coalesced watch lists (region-watch.ts): as often as its share of the project and
// region's read budget allows for the pages a round takes, never closer than the floor. A fixed
// interval wasted the quota when few pages were needed (2,000 jobs: 4 pages every 15 s, 31 reads a
// minute of 540) and could not grow with the pages.
//
// The share is split among the job kinds watched in one project and region max-min fairly: a kind
// gets what it can use at the floor, up to an equal part of what the others leave, so a kind with
// one page is not slowed by another's twenty.
//
// Any 60 s holds at most ⌈60 s / interval⌉ rounds (the interval runs from one round's end to the
// next's start), so a kind allotted `a` reads a minute for `p` pages a round makes k = ⌊a / p⌋
// rounds a minute, 60 s / k apart: even a window that opens on a round spends ≤ a. (60 s · p / a
// apart would let the round at the window's far edge in too.)
//
// Other callers' reads (submits' polls, cancels, the Model Registry) come first: when the budget's
// last minute shows them leaving less than the share, the watch takes only what is left, but never
// slows past CT_VERTEX_WATCH_INTERVAL_MS for their sake (it is what notices jobs end). 429s slow it
// further (region-watch.ts backs off).

/** The worker's count of a project and region's calls in the last 60 s. */
export type ReadUsage = Pick<VertexBudget, 'usedInLastMinute'>;

const MINUTE = 60_000;

/** One project and region's listing share, split among the job kinds watched there. */
export class RegionPace {
  /** Pages a round of each kind being watched takes (its last round's). */
  private readonly pages = new Map<string, number>();
  /** When this region's watches read, over the last minute: the budget's count less these is the others'. */
  private readonly ownReads: number[] = [];

  constructor(
    private readonly project: string,
    private readonly region: string,
    private readonly settings: RegionWatchSettings,
    private readonly usage?: ReadUsage,
  ) {}

  /** `kind` is watched, at `pages` List calls a round. */
  listing(kind: string, pages: number): void {
    this.pages.set(kind, Math.max(1, pages));
  }

  /** `kind` has nothing left to watch: its part goes to the others. */
  idle(kind: string): void {
    this.pages.delete(kind);
  }

  read(now = Date.now()): void {
    this.ownReads.push(now);
  }

  /** From the end of `kind`'s round to the start of its next. */
  intervalOf(kind: string, now = Date.now()): number {
    const s = this.settings;
    if (s.readShare <= 0) return s.intervalMs;
    const share = s.readShare * s.readsPerMinute;
    const own = this.intervalWithin(kind, share);
    if (!this.usage) return own;
    const others = Math.max(
      0,
      this.usage.usedInLastMinute(this.project, this.region, 'read') - this.ownInLastMinute(now),
    );
    const room = s.readsPerMinute - others;
    if (room >= share) return own;
    return Math.max(own, Math.min(this.intervalWithin(kind, Math.max(0, room)), s.intervalMs));
  }

  private intervalWithin(kind: string, readsPerMinute: number): number {
    const { floorMs } = this.settings;
    const p = this.pages.get(kind) ?? 1;
    const atFloor = (pages: number) => pages * Math.ceil(MINUTE / floorMs);
    const demands = [...this.pages].filter(([k]) => k !== kind).map(([, n]) => atFloor(n));
    const mine = atFloor(p);
    demands.push(mine);
    demands.sort((x, y) => x - y);
    // Water-filling: the smallest demands are met in full, the rest split what remains equally.
    let left = readsPerMinute;
    let a = 0;
    for (let i = 0; i < demands.length; i++) {
      const part = Math.min(demands[i]!, left / (demands.length - i));
      if (demands[i] === mine) a = part;
      left -= part;
    }
    const rounds = Math.floor(a / p);
    // Less than a round a minute: the share holds on average over the minutes a round takes.
    const ms = rounds >= 1 ? MINUTE / rounds : a > 0 ? (MINUTE * p) / a : Infinity;
    return Math.max(floorMs, ms);
  }

  private ownInLastMinute(now: number): number {
    while (this.ownReads.length > 0 && this.ownReads[0]! <= now - MINUTE) this.ownReads.shift();
    return this.ownReads.length;
  }
}

/** Where the watch's pace and listings are reported: ct_vertex_watch_interval_seconds, ct_vertex_watch_lists. */
export interface WatchObserver {
  paced(region: string, kind: string, intervalMs: number): void;
  listed(region: string, kind: string, pages: number): void;
}

export function watchMetrics(meter: MetricMeter): WatchObserver {
  const interval = meter.createGauge(m.vertexWatchInterval.name, 'float', undefined, m.vertexWatchInterval.help);
  const lists = meter.createCounter(m.vertexWatchLists.name, undefined, m.vertexWatchLists.help);
  return {
    paced: (region, kind, ms) => interval.set(ms / 1000, { region, kind }),
    listed: (region, kind, pages) => lists.add(pages, { region, kind }),
  };
}
