import type { ActivityOptions, RetryPolicy } from '@temporalio/common';

// The activity retry profiles, named once. An activity throws a non-retryable ApplicationFailure
// for what retrying cannot fix (bad input, Vertex's INVALID_ARGUMENT, a missing object), so these
// policies only decide how long a transient fault (a blip, a 429, a restarting service) is ridden out.

/** Reads and starts over the config and Temporal itself: a fault here is a blip; 5 tries, 1 s apart. */
export const planning: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
};

/** Calls to GCS, the Model Registry and Temporal's API: backing off to a minute, 10 tries ride out ~8 minutes of outage. */
export const serviceCall: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
};

/**
 * Creates and cancels on Vertex. 429 and UNAVAILABLE come back as retryable failures: backing off
 * to 2 minutes, 15 tries ride out ~25 minutes of quota exhaustion. 45 s: a create is one RPC (the
 * client's own deadline is 30 s), and a worker that dies mid-submit is noticed by this timeout; the
 * retry then finds the job the first attempt made (activities/vertex/duplicates.ts).
 */
export const vertexCall: ActivityOptions = {
  startToCloseTimeout: '45 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 15 },
};

/**
 * An activity that watches something for one chunk and fails with STILL_RUNNING at its end: the
 * next attempt takes over at once, attempts unlimited while the watched thing goes on (a retry is
 * billed as one action and writes no history event).
 */
export const handOverRetry: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 1,
  maximumInterval: '1 second',
};
