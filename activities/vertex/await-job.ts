import { ApplicationFailure } from '@temporalio/common';
import { CompleteAsyncError, Context } from '@temporalio/activity';
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
 * The coalesced watch waits on the region's listing instead of reading the job itself, for one
 * chunk, and hands over at the chunk's end just the same.
 *
 * It lets go of the activity (async completion: released-watches.ts) unless the job's attempt may
 * still get a late twin, whose watch beats (heartbeatIfAsked) and sweeps at the end in the activity.
 * A held watch cost a slot and ≤ 45 kB of live heap for as long as its job ran, so the worker's
 * `maxConcurrentActivityTaskExecutions` bounded the jobs it could watch (2,000); released, a watch
 * is the job's entry in its region's watch and a task token, and the slots are the submits' and
 * cancels'. What makes the watch durable stays the activity, open at the server: a dead worker's
 * watches are retried on a live worker when their startToClose timeout passes, a chunk's retry is
 * one action and no event. The ways that free the slot by returning cost more:
 * - Return early and let the workflow sleep on a timer, then re-enter: the run learns of the end
 *   only at a re-entry, so a ≤ 30 s detection lag needs a re-entry every ≤ 30 s — a timer and an
 *   activity (2 actions, ~11 history events) each time, ~240 actions and ~1,300 events per
 *   job-hour against 4 and 0 now.
 * - One activity per region that signals each run at its job's end: the set of watched jobs must
 *   then be durable somewhere (a registry workflow whose history grows with every job), with its
 *   own take-over and its own path for a cancel to reach the job.
 */
async function awaitInRegion<
  J extends { name: string; createTime?: string; findBy?: JobLabel; twinsUntil?: string },
  P,
>(req: AwaitRequest<J>, c: Coalesced<J, P>, sweep?: (req: { job: J; region: string }) => Promise<unknown>): Promise<P> {
  const ctx = Context.current();
  const watch = c.watches.watchOf(c.kind(req.job), req.job.name);
  const deadline = Date.now() + req.chunkMs;
  const released = c.watches.released;
  const attempt = ctx.info.attempt;
  const job = { name: req.job.name, createTime: req.job.createTime, findBy: req.job.findBy };
  if (released && !req.job.twinsUntil && !ctx.info.heartbeatTimeoutMs) {
    const ending = watch.awaitEnd(job, deadline, req.pollIntervalMs, released.signal);
    released.release(
      // A copy: the token outlives the activity's task, whose buffers are the SDK's.
      Uint8Array.from(ctx.info.taskToken),
      req.job.name,
      ending.then((listed) => endOf(req, c, listed, attempt)),
    );
    throw new CompleteAsyncError();
  }
  // Held: unless it heartbeats (a job in doubt) the activity cannot be cancelled; a worker shutting down ends it.
  const listed = await Promise.race([watch.awaitEnd(job, deadline, req.pollIntervalMs), ctx.cancelled]);
  const end = endOf(req, c, listed, attempt);
  // The listing cancels twins while the job runs; a late create can land after a short job ended.
  if (sweep && req.job.twinsUntil) await sweepUntilTwinsCannotLand(req.job, () => sweep(req), deadline);
  return end;
}

/** The watch's result for the job as last listed: its end, or STILL_RUNNING for the next attempt. */
function endOf<J extends { name: string }, P>(
  req: AwaitRequest<J>,
  c: Coalesced<J, P>,
  listed: ListedJob | undefined,
  attempt: number,
): P {
  if (listed) {
    const progress = c.progress(req.job, listed);
    if ((progress as { terminal?: boolean }).terminal) return withAttempts(progress, attempt);
  }
  throw ApplicationFailure.create({
    type: STILL_RUNNING,
    message: `${req.job.name} is ${listed ? String(listed.state) : 'not listed yet'} after this attempt's ${Math.round(req.chunkMs / 1000)} s of watching; the next attempt watches on`,
    details: listed ? [c.progress(req.job, listed)] : [],
  });
}
