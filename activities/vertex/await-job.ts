import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { STILL_RUNNING, type JobLabel, type TrainingJobRef, type VertexJobProgress } from '../../contracts';
import { sweepUntilTwinsCannotLand } from './duplicates';
import type { JobKindName, ListedJob, RegionWatches } from './region-watch';

export interface AwaitRequest<J extends { name: string } = TrainingJobRef> {
  job: J;
  region: string;
  pollIntervalMs: number;
  /** How long one attempt polls before handing over to the next attempt. */
  chunkMs: number;
}

/**
 * Polls Vertex in-process, once per interval, and returns when the job has ended. An attempt
 * polls for one chunk at most, then fails with STILL_RUNNING so Temporal retries it at once: a
 * retry costs one billable action and, unlike a new activity, no history events. It does not
 * heartbeat (each heartbeat that reaches the server is billed): its startToClose timeout, a little
 * over one chunk, hands the watch to another worker if this one dies — except for a job whose
 * attempt may still get a late twin, watched with a heartbeat timeout (heartbeatIfAsked).
 * See workflows/support/vertex-job-supervisor.ts for the cost argument.
 */
/** The coalesced watch (region-watch.ts) in place of a Get per job and interval. */
export interface Coalesced<J, P> {
  watches: RegionWatches;
  kind: (job: J) => JobKindName;
  progress: (job: J, listed: ListedJob) => P;
}

export function createAwaitActivity<
  J extends { name: string; twinsUntil?: string } = TrainingJobRef,
  P extends { terminal: boolean; state: string } = VertexJobProgress<J>,
>(
  read: (req: { job: J; region: string }) => Promise<P>,
  /** Cancels other jobs of the same attempt (duplicates.ts). */
  sweep?: (req: { job: J; region: string }) => Promise<unknown>,
  coalesced?: Coalesced<J, P>,
) {
  return async function awaitVertexJob(req: AwaitRequest<J>): Promise<P> {
    const stopBeating = heartbeatIfAsked();
    try {
      return await (coalesced ? awaitInRegion(req, coalesced, sweep) : awaitByReads(req, read, sweep));
    } finally {
      stopBeating();
    }
  };
}

/**
 * A watch given a heartbeat timeout (a job whose attempt may still get a late twin:
 * workflows/support/vertex-job-supervisor.ts) beats while it watches; the SDK sends one per 0.8 × timeout.
 */
function heartbeatIfAsked(): () => void {
  const ctx = Context.current();
  const timeoutMs = ctx.info.heartbeatTimeoutMs;
  if (!timeoutMs) return () => undefined;
  ctx.heartbeat();
  const timer = setInterval(() => ctx.heartbeat(), Math.max(250, timeoutMs / 4));
  return () => clearInterval(timer);
}

async function awaitByReads<
  J extends { name: string; twinsUntil?: string },
  P extends { terminal: boolean; state: string },
>(
  req: AwaitRequest<J>,
  read: (req: { job: J; region: string }) => Promise<P>,
  sweep?: (req: { job: J; region: string }) => Promise<unknown>,
): Promise<P> {
  const ctx = Context.current();
  // The previous attempt read the job just before it handed over: keep to one read per interval.
  if (ctx.info.attempt > 1) await ctx.sleep(req.pollIntervalMs);
  const deadline = Date.now() + req.chunkMs;
  if (sweep) {
    try {
      await sweep(req);
    } catch (err) {
      ctx.log.warn('looking for duplicate Vertex jobs failed; the next chunk and the end look again', {
        job: req.job.name,
        error: (err as Error).message,
      });
    }
  }
  let last: P | undefined;
  for (;;) {
    try {
      last = await read(req);
      if (last.terminal) {
        // Not caught: the run moves on only once no duplicate runs (a failure here is retried).
        if (sweep) await sweepUntilTwinsCannotLand(req.job, () => sweep(req), deadline);
        return withAttempts(last, ctx.info.attempt);
      }
    } catch (err) {
      // A 429 or 503 on one read is no reason to stop watching; a rejected read (NOT_FOUND) is.
      if (err instanceof ApplicationFailure && err.nonRetryable) throw err;
      ctx.log.warn('reading the Vertex job failed; polling on', { job: req.job.name, error: (err as Error).message });
    }
    if (Date.now() + req.pollIntervalMs >= deadline) break;
    await ctx.sleep(req.pollIntervalMs);
  }
  throw ApplicationFailure.create({
    type: STILL_RUNNING,
    message: `${req.job.name} is ${last?.state ?? 'not readable'} after this attempt's ${Math.round(req.chunkMs / 1000)} s of polling; the next attempt watches on`,
    details: last ? [last] : [],
  });
}

/** The end as the run sees it, with the attempts the watch took (each hand-over is a billable retry). */
const withAttempts = <P>(progress: P, watchAttempts: number): P => ({ ...progress, watchAttempts });

/**
 * The coalesced watch holds this activity (and its slot) for one chunk, waiting on the region's
 * listing instead of reading the job itself; it hands over at the chunk's end just the same.
 *
 * Whether a watch should hold an activity slot per job for hours: it does, deliberately.
 * The activity is what makes the watch durable at no cost in history — a dead worker's watches are
 * retried on a live worker when their startToClose timeout passes, and a chunk's retry is one
 * action and no event. The two cheap ways to free the slot both cost more than they save:
 * - Return early and let the workflow sleep on a timer, then re-enter: the run learns of the end
 *   only at a re-entry, so a ≤ 30 s detection lag needs a re-entry every ≤ 30 s — a timer and an
 *   activity (2 actions, ~11 history events) each time, ~240 actions and ~1,300 events per
 *   job-hour against 4 and 0 now. At a 15-minute re-entry it is 8 actions per job-hour and up to
 *   15 minutes of lag; either way history grows while the job runs.
 * - One activity per region that watches every job and signals each run at its job's end: one
 *   signal per job is cheap, but the set of watched jobs must then be durable somewhere (a registry
 *   workflow whose history grows with every job, continued-as-new), with its own take-over and its
 *   own path for a cancel to reach the job at once: a redesign, not a change.
 * A held slot costs a pending promise and a timer: no Vertex read, no CPU (the region's listing
 * does the reading), ≤ 45 kB of live heap. What bounds it is the worker's
 * `maxConcurrentActivityTaskExecutions` (workers/worker.ts: 2,000 with this watch, set from that
 * memory so a worker stays near 512 MB), so slots grow with workers: 2,000 jobs on 2 workers hold
 * ~1,000 each, 10,000 jobs need 5 workers, 6 to keep slots free for submits and cancels. A full
 * worker delays a cancel only until a watch's chunk ends and frees a slot (thousands of staggered
 * 15-minute chunks end several a second).
 */
async function awaitInRegion<
  J extends { name: string; createTime?: string; findBy?: JobLabel; twinsUntil?: string },
  P,
>(req: AwaitRequest<J>, c: Coalesced<J, P>, sweep?: (req: { job: J; region: string }) => Promise<unknown>): Promise<P> {
  const ctx = Context.current();
  const watch = c.watches.watchOf(c.kind(req.job), req.job.name);
  const deadline = Date.now() + req.chunkMs;
  const waiting = watch.awaitEnd(
    { name: req.job.name, createTime: req.job.createTime, findBy: req.job.findBy },
    deadline,
    req.pollIntervalMs,
  );
  // Unless it heartbeats (a job in doubt) the activity cannot be cancelled; a worker shutting down ends it.
  const listed = await Promise.race([waiting, ctx.cancelled]);
  if (listed) {
    const progress = c.progress(req.job, listed);
    if ((progress as { terminal?: boolean }).terminal) {
      // The listing cancels twins while the job runs; a late create can land after a short job ended.
      if (sweep && req.job.twinsUntil) await sweepUntilTwinsCannotLand(req.job, () => sweep(req), deadline);
      return withAttempts(progress, ctx.info.attempt);
    }
  }
  throw ApplicationFailure.create({
    type: STILL_RUNNING,
    message: `${req.job.name} is ${listed ? String(listed.state) : 'not listed yet'} after this attempt's ${Math.round(req.chunkMs / 1000)} s of watching; the next attempt watches on`,
    details: listed ? [c.progress(req.job, listed)] : [],
  });
}
