import type { Storage } from '@google-cloud/storage';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { flagWatchTarget, readFlag, type FlagGroup, type FlagReading } from '../../config/flags';
import type { PipelineConfig } from '../../config/pipeline-config';
import {
  STILL_RUNNING,
  type AwaitFlagsRequest,
  type AwaitFlagsResult,
  type FlagFound,
  type FlagSeen,
} from '../../contracts';
import type { FlagWatchSettings } from '../../infra/gcs';
import { metrics as m } from '../../observability/metrics';

// The flag watch's listing: each listing, one paged List per listing group (the sources of a
// bucket that share a first folder, config/flags.ts) serves every flag template in it, however many
// partitions and datasets, so reads grow with flags ÷ page size, not with prefixes — the flag
// counterpart of the Vertex region watch (activities/vertex/region-watch.ts).
//
// Listings start at least an interval apart, whatever the last one found: a call's first listing
// waits until an interval after the watch's last one (req.listedAt), so flags that keep arriving
// cost one listing per interval, as a quiet bucket does (docs/triggers.md has the figures).
// It returns only when it has something for the workflow to record: flags written since the
// group's watermark, or a group seen for the first time. Otherwise it lists every interval,
// heartbeating, and at the end of a chunk waits out the interval and hands over (STILL_RUNNING; the
// retry is one action and no history event), so a quiet bucket adds nothing to the watch's
// history. Nothing is lost across a hand-over or a crash: the watermarks move only in the result
// that carries what was found. Why it heartbeats (the Vertex job watch does not) is argued in
// workflows/flag-watch.ts.

export const DEFAULT_FLAG_WATCH: FlagWatchSettings = {
  intervalMs: 30_000,
  chunkMs: 1_800_000,
  pageSize: 1000,
  matchGlob: true,
  marginMs: 120_000,
  maxBatch: 200,
};

/** Under the watch's heartbeat timeout (workflows/flag-watch.ts) whatever the interval. */
const HEARTBEAT_SLICE_MS = 20_000;

interface ListedObject {
  name?: string;
  generation?: string | number;
  timeCreated?: string;
}

export function createAwaitFlagsActivity(deps: {
  config: PipelineConfig;
  storage: Storage;
  flagWatch?: FlagWatchSettings;
}) {
  const settings = deps.flagWatch ?? DEFAULT_FLAG_WATCH;
  return async function awaitFlags(req: AwaitFlagsRequest): Promise<AwaitFlagsResult> {
    const ctx = Context.current();
    const labels = { environment: req.environment };
    const requests = ctx.metricMeter.createCounter(m.flagListRequests.name, undefined, m.flagListRequests.help);
    const errors = ctx.metricMeter.createCounter(m.flagListErrors.name, undefined, m.flagListErrors.help);
    const took = ctx.metricMeter.createHistogram(m.flagListing.name, 'float', 's', m.flagListing.help);
    const target = flagWatchTarget(deps.config, req.environment, req.bucket);

    // A group new to a watch that has listed before (the config grew) starts at the watch's oldest
    // watermark: flags written since the watch last looked are triggers. A watch's first groups
    // start at their first listing: what was there before is history (docs/triggers.md).
    const known = Object.values(req.watermarks).map(Date.parse);
    const inherited = known.length ? Math.min(...known) : undefined;
    // The chunk, and the interval waited out after its last listing, end a minute before the
    // workflow's startToClose timeout would.
    const chunkMs = Math.min(
      settings.chunkMs,
      Math.max(1_000, ctx.info.startToCloseTimeoutMs - 60_000 - settings.intervalMs),
    );
    const deadline = Date.now() + chunkMs;
    // The SDK sends at most one heartbeat per 80% of the timeout; a sleep rejects when the worker
    // shuts down or the watch is cancelled, and the attempt is then retried (on another worker).
    const pauseUntil = async (until: number) => {
      for (let left = until - Date.now(); left > 0; left = until - Date.now()) {
        ctx.heartbeat();
        await ctx.sleep(Math.min(HEARTBEAT_SLICE_MS, left));
      }
    };
    if (!target) {
      // A worker of an older config during a deploy, or a config that dropped the bucket: this
      // attempt idles and hands over (to a worker that may know the flags), never ending the watch
      // and its ledger. A watch no config wants any more is ended by hand (docs/triggers.md).
      ctx.log.warn("this worker's config has no flag in the watch's bucket: idle until the next attempt", {
        bucket: req.bucket,
      });
      while (Date.now() + HEARTBEAT_SLICE_MS < deadline) {
        ctx.heartbeat();
        await ctx.sleep(HEARTBEAT_SLICE_MS);
      }
      throw ApplicationFailure.create({
        type: STILL_RUNNING,
        message: `this worker's config has no flag in gs://${req.bucket} for environment ${req.environment}; the next attempt looks again`,
      });
    }
    let due = req.listedAt !== undefined ? Date.parse(req.listedAt) + settings.intervalMs : 0;
    for (;;) {
      await pauseUntil(due);
      // Past the chunk's end (an interval after its last listing): the next attempt lists at once.
      if (Date.now() >= deadline) break;
      const round = await listRound(
        target.groups,
        req,
        inherited,
        settings,
        deps.storage,
        () => ctx.heartbeat(),
        (err, group) => {
          errors.add(1, labels);
          ctx.log.warn('listing flags failed; the watch lists again at its next interval', {
            bucket: req.bucket,
            prefix: group.prefix,
            error: err instanceof Error ? err.message : String(err),
          });
        },
      );
      requests.add(round.listing.pages, labels);
      for (const s of round.seconds) took.record(s, labels);
      if (round.found.length || round.baselined.length) {
        const { seconds: _, ...result } = round;
        return result;
      }
      due = Date.parse(round.listing.at) + settings.intervalMs;
    }
    throw ApplicationFailure.create({
      type: STILL_RUNNING,
      message: `no new flag in gs://${req.bucket} after this attempt's ${Math.round(chunkMs / 1000)} s of listing; the next attempt lists on`,
    });
  };
}

/** One listing of every group: what is new since each group's watermark, and the watermarks after it. */
async function listRound(
  groups: FlagGroup[],
  req: AwaitFlagsRequest,
  inherited: number | undefined,
  settings: FlagWatchSettings,
  storage: Storage,
  beat: () => void,
  failed: (err: unknown, group: FlagGroup) => void,
): Promise<AwaitFlagsResult & { seconds: number[] }> {
  const found: FlagFound[] = [];
  const watermarks: Record<string, string> = {};
  const baselined: string[] = [];
  const baselineHandled: FlagSeen[] = [];
  const stats = { at: new Date().toISOString(), groups: groups.length, pages: 0, objects: 0, errors: 0 };
  const seconds: number[] = [];
  /** Where each group's new watermark would be, were all it found returned now. */
  const next = new Map<string, number>();
  for (const group of groups) {
    const previous = req.watermarks[group.key];
    const since = previous !== undefined ? Date.parse(previous) : inherited;
    const listStart = Date.now();
    const floor = listStart - settings.marginMs;
    try {
      let pageToken: string | undefined;
      do {
        beat();
        const [, , response] = await storage.bucket(req.bucket).getFiles({
          prefix: group.prefix,
          maxResults: settings.pageSize,
          autoPaginate: false,
          ...(pageToken ? { pageToken } : {}),
          ...(settings.matchGlob && group.glob ? { matchGlob: group.glob } : {}),
        });
        stats.pages++;
        const page = response as { items?: ListedObject[]; nextPageToken?: string } | undefined;
        for (const o of page?.items ?? []) {
          stats.objects++;
          if (!o.name || o.generation === undefined || !o.timeCreated) continue;
          const seen: FlagSeen = { object: o.name, generation: String(o.generation), writtenAt: o.timeCreated };
          const writtenAt = Date.parse(o.timeCreated);
          if (since === undefined) {
            // The first listing: recent objects are noted so the next listings pass over them.
            if (writtenAt >= floor && readFlag(group, o.name, writtenAt).length) baselineHandled.push(seen);
            continue;
          }
          if (writtenAt < since || req.handled[o.name] === seen.generation) continue;
          for (const r of readFlag(group, o.name, writtenAt)) found.push(foundOf(seen, r));
        }
        pageToken = page?.nextPageToken || undefined;
      } while (pageToken);
      seconds.push((Date.now() - listStart) / 1000);
      if (since === undefined) baselined.push(group.key);
      next.set(group.key, Math.max(since ?? floor, floor));
    } catch (err) {
      stats.errors++;
      failed(err, group);
      if (previous !== undefined) watermarks[group.key] = previous;
    }
  }
  // Too many at once (a backfill, a long outage): the oldest go now, and each group's watermark
  // stops at its oldest flag left out, which the next listing finds again.
  found.sort((a, b) => Date.parse(a.writtenAt) - Date.parse(b.writtenAt));
  const left = found.splice(settings.maxBatch);
  for (const f of left) {
    const group = groups.find((g) => g.sources.some((s) => s.id === f.source))!;
    next.set(group.key, Math.min(next.get(group.key)!, Date.parse(f.writtenAt)));
  }
  for (const [key, at] of next) watermarks[key] = new Date(at).toISOString();
  return { found, watermarks, baselined, baselineHandled, listing: stats, seconds };
}

/** A reading of a seen generation, as the workflow takes it. */
export const foundOf = (seen: FlagSeen, r: FlagReading): FlagFound => ({
  ...seen,
  source: r.source.id,
  ...('refused' in r
    ? { refused: r.refused, dataset: r.dataset, partition: r.partition }
    : { dataset: r.dataset, partition: r.partition, until: new Date(r.until).toISOString() }),
});

/** Reads objects a notification told of (workflows/flag-watch.ts), as a listing would have. */
export function createReadFlagsActivity(deps: { config: PipelineConfig }) {
  return function readFlags(req: { environment: string; bucket: string; seen: FlagSeen[] }): Promise<FlagFound[]> {
    const target = flagWatchTarget(deps.config, req.environment, req.bucket);
    return Promise.resolve(
      (target?.groups ?? []).flatMap((group) =>
        req.seen.flatMap((s) => readFlag(group, s.object, Date.parse(s.writtenAt)).map((r) => foundOf(s, r))),
      ),
    );
  };
}
