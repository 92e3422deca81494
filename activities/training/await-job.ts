import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { TrainingJobRef } from '../../contracts';
import type { JobProgress } from './types';

export interface AwaitRequest {
  job: TrainingJobRef;
  region: string;
  pollIntervalMs: number;
  /** How long one activity polls before returning "still running" to the workflow. */
  chunkMs: number;
}

/**
 * Polls Vertex in-process, once per interval, for up to one chunk; returns as soon as the job ends.
 * It does not heartbeat (each heartbeat that reaches the server is billed): its startToClose
 * timeout, a little over one chunk, is what hands a run on to another worker if this one dies.
 * See workflows/training-run.ts for the cost argument.
 */
export function createAwaitActivity(read: (req: { job: TrainingJobRef; region: string }) => Promise<JobProgress>) {
  return async function awaitTrainingJob(req: AwaitRequest): Promise<JobProgress> {
    const ctx = Context.current();
    const deadline = Date.now() + req.chunkMs;
    let last: JobProgress | undefined;
    for (;;) {
      try {
        last = await read(req);
        if (last.terminal) return last;
      } catch (err) {
        // A 429 or 503 on one read is no reason to stop watching; a rejected read (NOT_FOUND) is.
        if (err instanceof ApplicationFailure && err.nonRetryable) throw err;
        ctx.log.warn('reading the Vertex job failed; polling on', { job: req.job.name, error: (err as Error).message });
      }
      if (Date.now() + req.pollIntervalMs >= deadline) break;
      await ctx.sleep(req.pollIntervalMs);
    }
    return last ?? { job: req.job, state: req.job.state ?? 'UNKNOWN', terminal: false };
  };
}
