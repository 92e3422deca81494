import { Context } from '@temporalio/activity';
import { type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { STILL_RUNNING, SCHEDULED_RUN_FAILED } from '../../contracts';

/**
 * Follows the partition's run to its end for a schedule's firing, so the schedule's overlap policy
 * and pause-on-failure apply to the real run. Same cost shape as the Vertex watch: one describe per
 * interval in-process, and after a chunk it hands over to its next attempt (a retry: one action,
 * no history event). A run that fails, is cancelled or terminated fails the firing with why.
 */
export function createAwaitScheduledActivity(deps: { temporal: Client }) {
  return async function awaitScheduledRun(req: {
    workflowId: string;
    pollIntervalMs: number;
    chunkMs: number;
  }): Promise<{ status: string; watchAttempts: number }> {
    const ctx = Context.current();
    const handle = deps.temporal.workflow.getHandle(req.workflowId);
    const deadline = Date.now() + req.chunkMs;
    for (;;) {
      const { status } = await handle.describe();
      // The attempts it took: each earlier one handed over (a billable retry the firing counts).
      if (status.name === 'COMPLETED') return { status: status.name, watchAttempts: ctx.info.attempt };
      if (status.name !== 'RUNNING' && status.name !== 'CONTINUED_AS_NEW') {
        let why = status.name.toLowerCase();
        if (status.name === 'FAILED')
          why = await handle.result().then(
            () => 'failed',
            (err: unknown) => `failed: ${(err as { cause?: Error }).cause?.message ?? (err as Error).message}`,
          );
        throw ApplicationFailure.nonRetryable(`${req.workflowId} ${why}`, SCHEDULED_RUN_FAILED);
      }
      if (Date.now() + req.pollIntervalMs >= deadline) break;
      await ctx.sleep(req.pollIntervalMs);
    }
    throw ApplicationFailure.create({
      type: STILL_RUNNING,
      message: `${req.workflowId} still running; the next attempt follows it`,
    });
  };
}
