// ApplicationFailure types that cross the workflow/activity boundary, so workflows can name them
// (e.g. in nonRetryableErrorTypes) without importing activity code.

/**
 * The caller's input is wrong (malformed, or names what the config does not have): the run fails
 * at once with the reason, and retrying cannot help. Airflow's hook matches it by this name.
 */
export const INVALID_INPUT = 'InvalidInput';
/** Vertex refused the request (INVALID_ARGUMENT, PERMISSION_DENIED, …): retrying cannot help. */
export const VERTEX_REJECTED = 'VertexRejected';
/** Vertex was unavailable or over quota (429, 503, …): retried with backoff. */
export const VERTEX_UNAVAILABLE = 'VertexUnavailable';
/** The watch activity hands over to its next attempt while the job still runs. */
export const STILL_RUNNING = 'VertexJobStillRunning';
