// A coalesced watch lets go of its activity (async completion) instead of holding a slot until its
// job ends: the worker keeps only the job's entry in its region's watch and the task token, and
// completes the activity through the server when the listing shows the end (or fails it with
// STILL_RUNNING at its chunk's end, the same hand-over as a held watch). Durability is unchanged:
// the activity stays open at the server under its startToClose timeout, so a killed worker's
// watches are retried on a live one when it passes; a worker that stops in order hands its watches
// over at once (`handOver`). Cost is unchanged too: one action per chunk, no heartbeat, no event.

/** The two calls of Temporal's AsyncCompletionClient a released watch needs. */
export interface Completer {
  complete(taskToken: Uint8Array, result: unknown): Promise<void>;
  fail(taskToken: Uint8Array, err: unknown): Promise<void>;
}

/** The watches one worker let go of, completed when their region's listing settles them. */
export class ReleasedWatches {
  private readonly stopping = new AbortController();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly completer: Completer,
    private readonly log: (message: string, attrs: Record<string, unknown>) => void = () => {},
  ) {}

  /** Aborted when the worker stops: every released watch settles with its last look (region-watch.ts). */
  get signal(): AbortSignal {
    return this.stopping.signal;
  }

  /** Completes the activity of `taskToken` with what `outcome` resolves to, or fails it with its error. */
  release(taskToken: Uint8Array, job: string, outcome: Promise<unknown>): void {
    const done: Promise<void> = outcome
      .then(
        (result) => this.completer.complete(taskToken, result),
        (err: unknown) => this.completer.fail(taskToken, err),
      )
      .catch((err: unknown) => {
        // NOT_FOUND: the run closed or was cancelled meanwhile (the watch is ABANDONed), or the
        // activity timed out and its retry watches on; anything else: the timeout hands it over.
        this.log('completing a released Vertex job watch failed; its startToClose timeout hands it over', {
          job,
          error: (err as Error).message,
        });
      })
      .finally(() => this.pending.delete(done));
    this.pending.add(done);
  }

  /** For a worker that stopped: settles every released watch now and waits until the server has them. */
  async handOver(): Promise<void> {
    this.stopping.abort();
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
