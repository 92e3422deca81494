// ApplicationFailure types that cross the workflow/activity boundary, so workflows can name them
// (e.g. in nonRetryableErrorTypes) without importing activity code.

/** Vertex refused the request (INVALID_ARGUMENT, PERMISSION_DENIED, …): retrying cannot help. */
export const VERTEX_REJECTED = 'VertexRejected';
/** Vertex was unavailable or over quota (429, 503, …): retried with backoff. */
export const VERTEX_UNAVAILABLE = 'VertexUnavailable';
/** The watch activity hands over to its next attempt while the job still runs. */
export const STILL_RUNNING = 'VertexJobStillRunning';
