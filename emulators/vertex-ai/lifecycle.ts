import { status } from '@grpc/grpc-js';
import { RpcError } from './errors';
import { TERMINAL, type GenericState, type JobRecord, type Store } from './store';

export interface OutputWriter {
  /** Writes what a successful job leaves in GCS and returns its output-only fields. */
  write(job: JobRecord): Promise<Record<string, unknown>>;
}

export class OutputWriteError extends Error {
  override name = 'OutputWriteError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const CANCELLED_ERROR = { code: 1, message: 'CANCELLED' };

/**
 * Moves jobs through Vertex's lifecycle on a clock: QUEUED → PENDING → RUNNING → end state, with
 * asynchronous, best-effort cancel (CANCELLING → CANCELLED, or the job ends on its own anyway).
 */
export class JobEngine {
  private timer: NodeJS.Timeout | undefined;
  private readonly busy = new Set<string>();
  /** Called after every transition (for saving and for other engines, e.g. operations). */
  onTick: (() => Promise<void>) | undefined;

  constructor(
    private readonly store: Store,
    private readonly outputs: OutputWriter,
  ) {}

  start(intervalMs = 20): void {
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Sets a new job's first state and due time from its script and the defaults. */
  initialise(job: JobRecord): void {
    job.state = 'QUEUED';
    this.scheduleNext(job, Date.now());
  }

  /** Re-evaluates a job's due time after its script changed (e.g. a hold was lifted). */
  initialiseFrom(job: JobRecord): void {
    this.scheduleNext(job, Date.now());
  }

  cancel(job: JobRecord, stateName: string): void {
    if (TERMINAL.has(job.state)) {
      throw new RpcError(
        status.FAILED_PRECONDITION,
        `The job ${job.key} is in state ${stateName} and cannot be canceled.`,
      );
    }
    job.cancelRequested = true;
    if (job.state === 'CANCELLING') return;
    job.state = 'CANCELLING';
    this.scheduleNext(job, Date.now());
    this.store.changed();
  }

  /** Control API: perform the next transition now, even if the job is held. */
  async advance(job: JobRecord): Promise<void> {
    if (TERMINAL.has(job.state))
      throw new RpcError(status.FAILED_PRECONDITION, `job ${job.key} is already ${job.state}`);
    if (job.state === 'PAUSED') {
      // A paused job resumes running (v1 has no Resume RPC for these jobs; only the control API can).
      job.state = 'RUNNING';
      this.scheduleNext(job, Date.now());
      return;
    }
    await this.transition(job);
  }

  private scheduleNext(job: JobRecord, now: number): void {
    const d = this.store.state.settings.defaults;
    const s = job.script;
    job.updateTime = now;
    if (s.holdIn === job.state || job.state === 'PAUSED' || TERMINAL.has(job.state)) {
      job.dueAt = undefined;
      return;
    }
    const wait: Partial<Record<GenericState, number>> = {
      QUEUED: s.queuedMs ?? d.queuedMs,
      PENDING: s.pendingMs ?? d.pendingMs,
      RUNNING: s.runningMs ?? d.runningMs,
      CANCELLING: s.cancellingMs ?? d.cancellingMs,
    };
    job.dueAt = now + (wait[job.state] ?? 0);
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    const due = Object.values(this.store.state.jobs).filter(
      (j) => j.dueAt !== undefined && j.dueAt <= now && !this.busy.has(j.key),
    );
    await Promise.all(due.map((j) => this.transition(j)));
    await this.onTick?.();
  }

  private async transition(job: JobRecord): Promise<void> {
    if (this.busy.has(job.key)) return;
    this.busy.add(job.key);
    try {
      const now = Date.now();
      switch (job.state) {
        case 'QUEUED':
          job.state = 'PENDING';
          break;
        case 'PENDING':
          job.state = 'RUNNING';
          job.startTime ??= now;
          break;
        case 'RUNNING':
          await this.finish(job, job.script.outcome);
          break;
        case 'CANCELLING': {
          const mode = job.script.cancel;
          await this.finish(job, mode === 'honour' ? 'CANCELLED' : mode === 'lose-succeed' ? 'SUCCEEDED' : 'FAILED');
          break;
        }
        default:
          return;
      }
      this.scheduleNext(job, Date.now());
      this.store.changed();
    } finally {
      this.busy.delete(job.key);
    }
  }

  private async finish(job: JobRecord, outcome: GenericState): Promise<void> {
    let final = outcome;
    if (outcome === 'SUCCEEDED' || outcome === 'PARTIALLY_SUCCEEDED') {
      try {
        job.outputs = { ...job.outputs, ...(await this.outputs.write(job)) };
      } catch (err) {
        // Vertex reports a job that cannot write its outputs as FAILED with the reason.
        final = 'FAILED';
        job.error =
          err instanceof OutputWriteError
            ? { code: err.code, message: err.message }
            : { code: 13, message: String(err) };
      }
    }
    if (final === 'FAILED')
      job.error ??= job.script.error ?? { code: 13, message: 'The job failed (scripted by the emulator).' };
    if (final === 'CANCELLED') job.error = CANCELLED_ERROR;
    if (final === 'PARTIALLY_SUCCEEDED' && job.script.error) job.error = job.script.error;
    job.state = final;
    if (final !== 'PAUSED') job.endTime = Date.now();
  }
}
