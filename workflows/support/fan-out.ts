import { condition } from '@temporalio/workflow';

// The sliding window that fans out children (prediction segments, per-segment training runs): at
// most `maxInFlight` at once, a finished one makes room for the next, and at most `perRun` started
// in this workflow run (the caller then continues as new, with nothing in flight).

export interface Window {
  queue: string[];
  maxInFlight: number;
  perRun: number;
  /** Runs one item to its end (records its result; never throws). */
  run: (item: string) => Promise<void>;
  /** True to start nothing more (fail-fast). */
  stopped: () => boolean;
}

/** Resolves when nothing is in flight and nothing more may start; the tasks it started are returned for cancel handling. */
export async function slidingWindow(w: Window, tasks: Promise<void>[]): Promise<void> {
  let running = 0;
  let finished = 0;
  let started = 0;
  for (;;) {
    while (!w.stopped() && w.queue.length && running < w.maxInFlight && started < w.perRun) {
      started++;
      running++;
      tasks.push(
        w.run(w.queue.shift()!).finally(() => {
          running--;
          finished++;
        }),
      );
    }
    if (running === 0 && (w.stopped() || !w.queue.length || started >= w.perRun)) return;
    const before = finished;
    await condition(() => finished !== before);
  }
}
