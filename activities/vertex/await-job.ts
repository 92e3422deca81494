import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { STILL_RUNNING, type TrainingJobRef, type VertexJobProgress } from '../../contracts';

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
 * over one chunk, hands the watch to another worker if this one dies.
 * See workflows/vertex-job-supervisor.ts for the cost argument.
 */
export function createAwaitActivity<
  J extends { name: string } = TrainingJobRef,
  P extends { terminal: boolean; state: string } = VertexJobProgress<J>,
>(
  read: (req: { job: J; region: string }) => Promise<P>,
  /** Cancels other jobs of the same attempt (duplicates.ts). */
  sweep?: (req: { job: J; region: string }) => Promise<unknown>,
) {
  return async function awaitVertexJob(req: AwaitRequest<J>): Promise<P> {
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
          await sweep?.(req);
          return last;
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
  };
}
