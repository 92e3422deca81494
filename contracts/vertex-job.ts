// What a Vertex job's state means, for every job kind (PipelineJob, CustomJob, BatchPredictionJob)
// and on both sides of the workflow/activity boundary. Vertex names the same states
// JOB_STATE_X and PIPELINE_STATE_X; everything here works on the bare X.

/** States in which a job runs no more and holds nothing: there is nothing left to cancel. */
export const FINAL_STATES: readonly string[] = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED', 'PARTIALLY_SUCCEEDED'];

/**
 * States that end a watch: the final ones and PAUSED. Nothing in Vertex v1 resumes a paused
 * pipeline, custom or batch job, so a run treats PAUSED as an end — and cancels the job, which
 * still holds its resources (workflows/support/vertex-job-supervisor.ts).
 */
export const WATCH_END_STATES: readonly string[] = [...FINAL_STATES, 'PAUSED'];

/** JOB_STATE_X / PIPELINE_STATE_X → X. */
export const bareState = (s: unknown): string => (typeof s === 'string' ? s : '').replace(/^(JOB|PIPELINE)_STATE_/, '');

/** The watch is over for a job in this state. */
export const watchEnded = (state: unknown): boolean => WATCH_END_STATES.includes(bareState(state));

/** The job may still run and is not already being cancelled: a duplicate in this state gets a cancel. */
export const stillRunning = (state: unknown): boolean =>
  !FINAL_STATES.includes(bareState(state)) && bareState(state) !== 'CANCELLING';

/** One look at a Vertex job, as the watch returns it to the run. */
export interface VertexJobProgress<J> {
  job: J;
  state: string;
  /** The watch is over: `watchEnded(state)`. */
  terminal: boolean;
  error?: { code: number; message: string };
  startTime?: string;
  endTime?: string;
  /**
   * The watch activity's attempt that saw the end: each earlier attempt was a hand-over (a billable
   * retry the workflow does not see otherwise), so the run can count its own actions.
   */
  watchAttempts?: number;
}
