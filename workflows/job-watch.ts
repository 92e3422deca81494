import { ActivityCancellationType, type ActivityOptions } from '@temporalio/common';
import { VERTEX_REJECTED } from '../contracts';
import { handOverRetry } from './activity-options';

/**
 * Options of the activity that watches a Vertex job (training or batch prediction) for one chunk.
 * It fails with STILL_RUNNING at the end of its chunk and the retry hands the watch over to the
 * next attempt at once (attempts are unlimited while the job runs), so the workflow's cost does not
 * grow with the job's length. It does not heartbeat, so it cannot learn of a cancel: the workflow
 * does not wait for it to (ABANDON) and cancels the job on Vertex itself.
 */
export function jobWatchOptions(pollChunkMs: number): ActivityOptions {
  return {
    startToCloseTimeout: pollChunkMs + 30_000,
    retry: { ...handOverRetry, nonRetryableErrorTypes: [VERTEX_REJECTED] },
    cancellationType: ActivityCancellationType.ABANDON,
  };
}
