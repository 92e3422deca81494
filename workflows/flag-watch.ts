import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import {
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  FlagNotice,
  flagNoticeSignal,
  flagWatchQuery,
  FlagWatchInput,
  parsePayload,
  type AwaitFlagsResult,
  type FlagEvent,
  type FlagFound,
  type FlagSeen,
  type FlagWatchState,
  type FlagWatchStatus,
} from '../contracts';
import { handOverRetry } from './support/activity-options';

// The flag watch: one workflow per environment and bucket (id flag-watch:{env}:{bucket}, started by
// the worker for the buckets its config names: starts/flag-watch.ts) lists the flag objects DAGs
// write and delivers the data-ready each stands for, once per partition (docs/triggers.md).
//
// Why a long-lived workflow with a heartbeating listing activity, continued as new:
// - The watch must remember what it delivered (a rewritten flag is reported, not delivered again)
//   and how far it has looked (flags written while no worker ran are still found). A workflow keeps
//   that durably with no store of its own; the ledger lives in its state, passed to the next
//   generation at continue-as-new, never to an activity, so history grows with what is found, not
//   with what is known.
// - The listing runs in an activity that returns only when something is new: a quiet bucket costs
//   its listings and no history. Each call is given the last listing's start and lists no sooner
//   than an interval after it, so flags that keep arriving cost one listing per interval too. One
//   watch per bucket (tens, not the Vertex watch's thousands of jobs), so it can afford to
//   heartbeat: ~40 heartbeats an hour reach the server (the SDK sends one per 80% of the 2-minute
//   timeout), and in exchange a worker that dies is replaced within 2 minutes rather than at the
//   end of a chunk (up to an hour). A chunk hands over with one retry.
// - A schedule firing a listing workflow every interval would start 120 workflows an hour per
//   bucket at 30 s (several hundred actions, and a history each) to find nothing most of the time.
// - Continue-as-new at the SDK's suggestion or 2,000 events keeps each generation short to replay.
// Cloud Storage notifications (the push form, `ct flags notify`) arrive as the flagNotice signal: the
// objects are read against the config by an activity and decided like the listing's, so dedup,
// window and reports stay here; the listing finding them later passes over them by generation.
// Bad flags never fail it: a refusal is an outcome (reported with its reason), and the activities
// catch what the config or a run refuses, so no workflow task fails on a flag.

const { awaitFlags } = proxyActivities<Activities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: handOverRetry,
});
const { deliverFlags, readFlags } = proxyActivities<Activities>({
  // Deliveries ride out a Temporal store outage (starts/data-ready.ts retries each for 2 minutes).
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Events kept for the status and the UI's details; all of them are in the worker's logs. */
const RECENT = 50;
/** Partitions remembered at most (the oldest windows go first): keeps a generation's input far below 2 MB. */
const MAX_LEDGER = 10_000;
const MAX_HISTORY_EVENTS = 2_000;

/** Runs until cancelled or terminated: a bucket no config names any more is left to an operator (docs/triggers.md). */
export async function flagWatch(raw: FlagWatchInput): Promise<never> {
  const { environment, bucket, state: carried } = parsePayload(FlagWatchInput, raw, 'flag watch input');
  const state: FlagWatchState = carried ?? {
    watermarks: {},
    handled: {},
    ledger: {},
    recent: [],
    counts: { delivered: 0, rewritten: 0, refused: 0 },
    since: new Date().toISOString(),
  };
  const status = (): FlagWatchStatus => ({
    environment,
    bucket,
    since: state.since,
    watermarks: state.watermarks,
    counts: state.counts,
    delivered: Object.keys(state.ledger).length,
    listing: state.listing,
    recent: state.recent,
  });
  setHandler(flagWatchQuery, status);
  const notices: FlagSeen[] = [];
  setHandler(flagNoticeSignal, (raw) => {
    // A signal cannot be refused to its sender: a malformed one is logged and ignored.
    const notice = FlagNotice.safeParse(raw);
    if (notice.success) notices.push(...notice.data.flags);
    else log.warn('flag notice ignored: not a list of {object, generation, writtenAt}', { bucket });
  });
  setCurrentDetails(details(status()));

  // The listing in flight, and what it returned (its promise outlives a round of notices).
  let listing: Promise<void> | undefined;
  let listed: AwaitFlagsResult | undefined;
  let failed: unknown;
  for (;;) {
    if (!listing) {
      const handled = Object.fromEntries(Object.values(state.handled).map((h) => [h.object, h.generation]));
      listing = awaitFlags({
        environment,
        bucket,
        watermarks: state.watermarks,
        handled,
        listedAt: state.listing?.at,
      }).then(
        (r) => void (listed = r),
        (err: unknown) => void (failed = err),
      );
    }
    await condition(() => listed !== undefined || failed !== undefined || notices.length > 0);
    // The listing retries for as long as the watch runs: only a cancel of the watch ends it.
    if (failed !== undefined) throw failed instanceof Error ? failed : new Error('the flag listing failed');
    let found: FlagFound[];
    if (listed) {
      const round = listed;
      [listed, listing] = [undefined, undefined];
      state.watermarks = round.watermarks;
      state.listing = round.listing;
      for (const seen of round.baselineHandled) state.handled[seen.object] = seen;
      found = round.found;
    } else {
      // A notice of what the listing handled already (a late or repeated notification) is passed over.
      const marks = Object.values(state.watermarks).map(Date.parse);
      const oldest = marks.length ? Math.min(...marks) : -Infinity;
      const seen = notices
        .splice(0)
        .filter((n) => state.handled[n.object]?.generation !== n.generation && Date.parse(n.writtenAt) >= oldest);
      found = seen.length ? await readFlags({ environment, bucket, seen }) : [];
    }

    const now = Date.now();
    const at = new Date(now).toISOString();
    const report: FlagEvent[] = [];
    const deliver: Parameters<Activities['deliverFlags']>[0]['deliver'] = [];
    /** Objects of this round (one object may fit two templates: both readings count). */
    const handledNow = new Set<string>();
    for (const f of found) {
      const seen = { object: f.object, generation: f.generation, writtenAt: f.writtenAt };
      // A notice and the listing may both bring a generation: the first decides, the other is passed over.
      if (state.handled[f.object]?.generation === f.generation && !handledNow.has(f.object)) continue;
      state.handled[f.object] = seen;
      handledNow.add(f.object);
      const about = { ...seen, dataset: f.dataset, partition: f.partition };
      if (f.refused) {
        report.push({ ...about, outcome: 'refused', at, reason: f.refused });
        continue;
      }
      const key = `${f.dataset} ${f.partition}`;
      const prior = state.ledger[key];
      if (prior) {
        if (prior.generation !== f.generation)
          report.push({
            ...about,
            outcome: 'rewritten',
            at,
            delivered: { generation: prior.generation, at: new Date(prior.at).toISOString() },
            reason: `partition ${f.partition} of ${f.dataset} was delivered at ${new Date(prior.at).toISOString()} from generation ${prior.generation}; generation ${f.generation} is reported, not delivered again`,
          });
        continue;
      }
      state.ledger[key] = { generation: f.generation, at: now, until: Date.parse(f.until!) };
      deliver.push({ ...seen, dataset: f.dataset!, partition: f.partition! });
    }

    if (deliver.length || report.length) {
      let events: FlagEvent[];
      try {
        events = [...report, ...(await deliverFlags({ environment, bucket, deliver, report }))];
      } catch (err) {
        // Only a failure retrying cannot fix reaches here: the flags are reported with it, the watch goes on.
        const why =
          err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause.message : String(err);
        events = [
          ...report,
          ...deliver.map((d) => ({ ...d, outcome: 'refused' as const, at, reason: `could not deliver: ${why}` })),
        ];
      }
      for (const e of events) {
        // A flag nobody could take (no run waits for its dataset) delivered nothing: not in the ledger.
        const key = `${e.dataset} ${e.partition}`;
        if (e.outcome === 'refused' && state.ledger[key]?.generation === e.generation) delete state.ledger[key];
        state.counts[e.outcome]++;
        state.recent.unshift(e);
      }
      state.recent.splice(RECENT);
    }
    forget(state);
    setCurrentDetails(details(status()));
    const info = workflowInfo();
    // Between listings only, so no listing's result is lost; notices not read yet are left to the listing.
    if (!listing && !notices.length && (info.continueAsNewSuggested || info.historyLength > MAX_HISTORY_EVENTS))
      await continueAsNew<typeof flagWatch>({ environment, bucket, state });
  }
}

/**
 * What the watch may forget: generations older than every watermark (no listing shows them as new
 * again), and partitions whose window closed before it (a flag for them now is refused by the window).
 */
function forget(state: FlagWatchState): void {
  const marks = Object.values(state.watermarks).map(Date.parse);
  if (!marks.length) return;
  const oldest = Math.min(...marks);
  for (const [object, h] of Object.entries(state.handled))
    if (Date.parse(h.writtenAt) < oldest) delete state.handled[object];
  for (const [key, entry] of Object.entries(state.ledger)) if (entry.until < oldest) delete state.ledger[key];
  const keys = Object.keys(state.ledger);
  if (keys.length > MAX_LEDGER)
    for (const key of keys
      .sort((a, b) => state.ledger[a]!.until - state.ledger[b]!.until)
      .slice(0, keys.length - MAX_LEDGER))
      delete state.ledger[key];
}

/** The UI's current details: what the watch lists, how far it has looked, and its latest outcomes. */
function details(s: FlagWatchStatus): string {
  const l = s.listing;
  const lines = [
    `**Flag watch** of \`gs://${s.bucket}\` for environment **${s.environment}**, since ${s.since}`,
    '',
    l
      ? `Last listing ${l.at}: ${l.groups} group(s), ${l.pages} page(s), ${l.objects} object(s)${l.errors ? `, **${l.errors} failed**` : ''}.`
      : 'Not listed yet.',
    `Delivered ${s.counts.delivered} · rewritten (reported) ${s.counts.rewritten} · refused ${s.counts.refused} · partitions remembered ${s.delivered}`,
  ];
  if (s.recent.length) {
    lines.push('', '| when | outcome | flag | partition | why |', '| --- | --- | --- | --- | --- |');
    for (const e of s.recent.slice(0, 10))
      lines.push(
        `| ${e.at} | ${e.outcome} | \`${e.object}\` #${e.generation} | ${e.dataset ?? ''} ${e.partition ?? ''} | ${(e.reason ?? (e.runs ? `${e.runs.length} run(s)` : '')).replaceAll('|', '/')} |`,
      );
  }
  return lines.join('\n');
}
