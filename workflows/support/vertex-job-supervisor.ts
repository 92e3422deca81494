import { ActivityCancellationType, type ActivityOptions } from '@temporalio/common';
import { CancellationScope } from '@temporalio/workflow';
import { VERTEX_REJECTED, type VertexJobProgress } from '../../contracts';
import { handOverRetry } from './activity-options';

// How a run owns a Vertex job (a training attempt's PipelineJob or CustomJob, a segment's
// BatchPredictionJob): submit, not cancellable → watch until it ends → on cancel, cancel it on
// Vertex and watch until it has ended.
//
// Cost of waiting for the job. Temporal Cloud bills each activity start or retry, each heartbeat
// that reaches the server and each timer. A workflow timer loop (timer + activity per poll) costs
// ~2 actions and ~6 history events per poll; one activity per chunk costs 1 action and 6 events per
// chunk (its 3 events and the workflow task it wakes). Instead one activity polls Vertex
// in-process once per poll interval (≤ 1 read per interval; the end seen ≤ one interval after
// Vertex reports it), and after a chunk (15 minutes in production) fails with STILL_RUNNING so
// Temporal retries it at once: a retry is one action and no history event (only the last attempt
// is recorded). So a job-hour costs 4 actions and 0 events, and a short job one activity. It does
// not heartbeat (heartbeats are billed: 60/(0.8 × timeout) per hour); a killed worker is noticed
// by the startToClose timeout (chunk + 30 s), then another worker's attempt takes over. Because it
// does not heartbeat it cannot hear a cancel: on cancellation the workflow abandons it and cancels
// the Vertex job itself, at once, in a non-cancellable scope. With the coalesced watch
// (activities/vertex/region-watch.ts) the activity reads nothing itself and waits on its region's
// listing; what it costs in actions and events is the same.

/**
 * A job whose attempt may still get a late twin (`twinsUntil`: an earlier try's create is in doubt,
 * activities/vertex/duplicates.ts) is watched with a heartbeat, so a dead worker's watch is taken
 * over within this timeout instead of a chunk: a twin that lands meanwhile is cancelled before a
 * short job of it can run to its end. Only such jobs (a create answered DEADLINE_EXCEEDED or
 * UNAVAILABLE) pay for it: a heartbeat every 8 s while they run.
 */
export const TWINS_WATCH_HEARTBEAT = '10 seconds';

/**
 * Options of the activity that watches a Vertex job for one chunk. It fails with STILL_RUNNING at
 * the end of its chunk and the retry hands the watch over to the next attempt at once (attempts
 * are unlimited while the job runs). ABANDON: it cannot learn of a cancel, so the workflow does
 * not wait for it to.
 */
function jobWatchOptions(pollChunkMs: number, opts: { twinsInDoubt?: boolean } = {}): ActivityOptions {
  return {
    startToCloseTimeout: pollChunkMs + 30_000,
    ...(opts.twinsInDoubt ? { heartbeatTimeout: TWINS_WATCH_HEARTBEAT } : {}),
    retry: { ...handOverRetry, nonRetryableErrorTypes: [VERTEX_REJECTED] },
    cancellationType: ActivityCancellationType.ABANDON,
  };
}

/**
 * The watch activity of a job kind, given the heartbeat when the job's twins are in doubt:
 * `proxy` makes the kind's activity with the options it is given.
 */
export function watchActivity<R extends { job: { twinsUntil?: string } }, P>(
  proxy: (options: ActivityOptions) => (req: R) => Promise<P>,
  pollChunkMs: number,
): (req: R) => Promise<P> {
  const plain = proxy(jobWatchOptions(pollChunkMs));
  const inDoubt = proxy(jobWatchOptions(pollChunkMs, { twinsInDoubt: true }));
  return (req) => (req.job.twinsUntil ? inDoubt : plain)(req);
}

/** A run's calls on its job, bound to the activities of the job's kind. */
export interface JobOps<J, P> {
  /** One watch activity: returns when the job has ended (its retries carry the watch on). */
  watch: (job: J, pollIntervalMs: number) => Promise<P>;
  cancel: (job: J) => Promise<void>;
  /** Every look the watch returns, the last (ended) one included. */
  onProgress?: (progress: P) => void;
}

/** While cancelling, the job is read more often than while it runs: the run waits on it. */
const CANCEL_POLL_MS = 5_000;

/**
 * The job a run owns now. Set at each submit together with whether it ended, so a cancel always
 * cancels the current attempt's job, once, and never an earlier attempt's that already ended.
 */
export class VertexJobSupervisor<J, P extends VertexJobProgress<unknown>> {
  private owned?: { job: J; ended: boolean };

  constructor(
    private readonly ops: JobOps<J, P>,
    private readonly pollIntervalMs: number,
  ) {}

  /**
   * Submits a job and watches it until it ends. The submit is not cancellable: a cancel arriving
   * mid-submit waits the moment it takes to learn the job's name, so `cancelLive` can cancel it
   * rather than leave it running. A PAUSED job still holds its resources: it is cancelled even if
   * the run is being cancelled meanwhile.
   */
  async run(submit: () => Promise<J>, onSubmitted?: (job: J) => void): Promise<{ job: J; last: P }> {
    const job = await CancellationScope.nonCancellable(submit);
    this.owned = { job, ended: false };
    onSubmitted?.(job);
    const last = await this.watch(job, this.pollIntervalMs);
    this.owned.ended = true;
    if (last.state === 'PAUSED') await CancellationScope.nonCancellable(() => this.ops.cancel(job));
    return { job, last };
  }

  /**
   * For a run being cancelled, inside a non-cancellable scope: cancels the live job on Vertex and
   * waits until it really ended (Vertex's cancel is asynchronous and best effort). Nothing to do
   * when no job is live.
   */
  async cancelLive(onCancelling?: (job: J) => void): Promise<{ job: J; last: P } | undefined> {
    const owned = this.owned;
    if (!owned || owned.ended) return undefined;
    onCancelling?.(owned.job);
    await this.ops.cancel(owned.job);
    const last = await this.watch(owned.job, Math.min(this.pollIntervalMs, CANCEL_POLL_MS));
    owned.ended = true;
    return { job: owned.job, last };
  }

  private async watch(job: J, pollIntervalMs: number): Promise<P> {
    for (;;) {
      const progress = await this.ops.watch(job, pollIntervalMs);
      this.ops.onProgress?.(progress);
      if (progress.terminal) return progress;
    }
  }
}
