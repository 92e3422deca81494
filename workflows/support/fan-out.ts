import { condition } from '@temporalio/workflow';

// The sliding window that fans out children (prediction segments, per-segment training runs): at
// most `maxInFlight` at once, a finished one makes room for the next, and at most `perRun` started
// in this workflow run (the caller then continues as new, with nothing in flight).
//
// `wave` bounds the children started in one workflow task: the next wave starts once the server
// has recorded the last one's starts (their ChildWorkflowExecutionStarted events come back in a
// later task), so a run of 1,000 segments is not 1,000 start commands, their promises and the
// children's first tasks in one burst of the worker's workflow thread.

/** Children a fan-out started after its waves patch starts per workflow task. */
export const START_WAVE = 100;

export interface Window {
  queue: string[];
  maxInFlight: number;
  perRun: number;
  /** The most children started in one workflow task; unbounded when unset (runs started before waves). */
  wave?: number;
  /** Runs one item to its end (records its result; never throws); calls `started` once its child has started. */
  run: (item: string, started: () => void) => Promise<void>;
  /** True to start nothing more (fail-fast). */
  stopped: () => boolean;
}

/** Resolves when nothing is in flight and nothing more may start; the tasks it started are returned for cancel handling. */
export async function slidingWindow(w: Window, tasks: Promise<void>[]): Promise<void> {
  let running = 0;
  let finished = 0;
  let started = 0;
  /** Children started whose start the server has not confirmed yet. */
  let unconfirmed = 0;
  const wave = w.wave ?? Number.POSITIVE_INFINITY;
  for (;;) {
    let inWave = 0;
    while (!w.stopped() && w.queue.length && running < w.maxInFlight && started < w.perRun && inWave < wave) {
      started++;
      running++;
      inWave++;
      unconfirmed++;
      let confirmed = false;
      const confirm = () => {
        if (confirmed) return;
        confirmed = true;
        unconfirmed--;
      };
      tasks.push(
        w.run(w.queue.shift()!, confirm).finally(() => {
          confirm();
          running--;
          finished++;
        }),
      );
    }
    if (running === 0 && (w.stopped() || !w.queue.length || started >= w.perRun)) return;
    const before = finished;
    const waveFull = inWave >= wave;
    await condition(() => finished !== before || (waveFull && unconfirmed === 0));
  }
}
