import { setTimeout as delay } from 'node:timers/promises';
import { DevLock } from './lock';
import { PortInUse } from './ports';
import type { Service } from './process';

// The foreground stacks (`npm run dev`, `npm run stack:prod`) knowing every child from the moment
// it is spawned, and stopping all of them in order on Ctrl-C or SIGTERM. What a child's own exit
// does is the stack's choice: `npm run dev` stops everything (`stopOnExit`: a laptop stack whose
// server died is better restarted whole, in front of the person using it), `npm run stack:prod`
// restarts the one that died (`restartOnExit`), as docker-compose.yml's `restart: unless-stopped`
// does for the same services.

/** Stop order: workers first, so they drain while the server can still take their reports; the database last, once nothing writes to it. */
const tiers: ((s: Service) => boolean)[] = [
  (s) => s.name.startsWith('worker'),
  (s) => s.name !== 'postgres',
  () => true,
];

/**
 * How a dead service comes back: after `firstDelayMs`, doubling on each death or failed start up
 * to `maxDelayMs`, and back to the first delay once it has stayed up `stableAfterMs`. There is no
 * last attempt (compose's `unless-stopped` has none either): every restart is reported, so a crash
 * loop is visible in the output and the service's log, and the rest of the stack keeps serving.
 */
export const restartPolicy = { firstDelayMs: 1_000, maxDelayMs: 30_000, stableAfterMs: 60_000 };

/** A service the stack restarts: `start` brings up a new process and resolves once it is ready again. */
export interface Restartable {
  name: string;
  service: Service;
  start: () => Promise<Service>;
}

/** A unit the supervisor keeps up: its process now, and whether it was retired for good. */
interface Kept {
  unit: Restartable;
  current: Service;
  retired: boolean;
  /** Resolves once the supervisor stopped keeping it (retired, or the stack stopping). */
  done: Promise<void>;
}

export class Supervisor {
  readonly services: Service[] = [];
  private stoppingFlag = false;
  private readonly stopped = new AbortController();
  private readonly kept = new Map<string, Kept>();

  constructor(
    private readonly lock: DevLock,
    private readonly command: string,
  ) {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void this.stopAll(0));
  }

  get stopping(): boolean {
    return this.stoppingFlag;
  }

  /** What the lock file tells a second copy of the stack (e.g. the UI's address). */
  updateLock(patch: Parameters<DevLock['update']>[0]): void {
    this.lock.update(patch);
  }

  /** Pass as each service's onSpawn: a stop during start-up then ends it too. */
  readonly onSpawn = (s: Service): void => {
    this.services.push(s);
    this.lock.update({ servicePids: this.services.filter((x) => x.running).map((x) => x.pid) });
    // Spawned by a start-up (or restart) step that was already under way when the stop came.
    if (this.stoppingFlag) void s.stop();
  };

  /** Once everything is up: any child that exits on its own takes the stack down, with its last lines. */
  stopOnExit(): void {
    for (const s of this.services) {
      void s.exited.then(() => {
        if (this.stoppingFlag) return;
        console.error(`\n${s.name} exited unexpectedly (${s.exitReason}). Last lines:\n${s.logTail()}`);
        void this.stopAll(1);
      });
    }
  }

  /**
   * Once up: each of `units` that exits on its own is restarted under `restartPolicy`, the rest
   * untouched. Called again for units started later (a blue-green deploy's new workers).
   */
  restartOnExit(units: Restartable[]): void {
    for (const unit of units) {
      const kept = { unit, current: unit.service, retired: false } as Kept;
      kept.done = this.keepUp(kept);
      this.kept.set(unit.name, kept);
    }
  }

  /**
   * Stops these units for good (a blue-green deploy's old workers, as `docker stop` does to a
   * service that restarts unless stopped): SIGTERM, so a worker finishes its tasks in flight, then
   * SIGKILL after `graceMs`. None is restarted; resolves once every one is gone.
   */
  async retire(names: string[], graceMs: number): Promise<void> {
    await Promise.all(
      names.map(async (name) => {
        const kept = this.kept.get(name);
        if (!kept) return;
        kept.retired = true;
        await kept.current.stop(graceMs);
        await kept.done;
        this.kept.delete(name);
      }),
    );
  }

  private async keepUp(kept: Kept): Promise<void> {
    const unit = kept.unit;
    let nextDelay = restartPolicy.firstDelayMs;
    let restarts = 0;
    for (;;) {
      const current = kept.current;
      await current.exited;
      if (this.stoppingFlag || kept.retired) return;
      const upMs = Date.now() - current.startedAt;
      if (upMs >= restartPolicy.stableAfterMs) nextDelay = restartPolicy.firstDelayMs;
      // Whatever the dead process left in its group (PostgreSQL's backends hold its shared memory).
      current.killGroup();
      restarts++;
      report(
        `${unit.name} (pid ${current.pid}) exited unexpectedly (${current.exitReason}) after ${seconds(upMs)} up; ` +
          `restarting in ${seconds(nextDelay)} (restart ${restarts}). Last lines of ${current.logFile ?? 'its output'}:\n` +
          current.logTail(),
      );
      for (;;) {
        if (!(await this.sleep(nextDelay)) || kept.retired) return;
        const t0 = Date.now();
        nextDelay = Math.min(nextDelay * 2, restartPolicy.maxDelayMs);
        try {
          kept.current = await unit.start();
          // Retired while it came back: it goes at once.
          if (kept.retired) return await kept.current.stop();
          report(
            `${unit.name} is back (pid ${kept.current.pid}, ready in ${seconds(Date.now() - t0)}; restart ${restarts})`,
          );
          break;
        } catch (err) {
          if (this.stoppingFlag) return;
          report(
            `${unit.name} did not come back: ${err instanceof Error ? err.message : String(err)}\n` +
              `  trying again in ${seconds(nextDelay)}`,
          );
        }
      }
    }
  }

  /** Resolves false at once when the stack stops meanwhile. */
  private async sleep(ms: number): Promise<boolean> {
    try {
      await delay(ms, undefined, { signal: this.stopped.signal });
      return !this.stoppingFlag;
    } catch {
      return false;
    }
  }

  async stopAll(code: number): Promise<void> {
    if (this.stoppingFlag) return;
    this.stoppingFlag = true;
    this.stopped.abort();
    console.log('\nstopping: workers first, then the servers…');
    for (const inTier of tiers) {
      await Promise.all(this.services.filter((s) => s.running && inTier(s)).map((s) => s.stop(15_000)));
    }
    // Until none is left: a start-up or restart step may spawn one more while these stop.
    while (this.services.some((s) => s.running)) await Promise.all(this.services.map((s) => s.stop()));
    this.lock.release();
    console.log('stopped; nothing left running.');
    process.exit(code);
  }

  /** A start-up failure: reported, then everything started so far is stopped (exit 1). */
  async fail(err: unknown): Promise<void> {
    // A stop during start-up ends the services being waited for: that is not an error to report.
    if (this.stoppingFlag) return;
    console.error(`${this.command}: ${err instanceof Error ? err.message : String(err)}`);
    await this.stopAll(1);
  }
}

/**
 * A foreground stack's life: its lock taken (a second copy on the same data folder is refused),
 * `start` run under a new Supervisor, and a start-up failure reported once with everything started
 * so far stopped. A port another program holds is refused before anything started.
 */
export async function superviseStack(
  command: string,
  lockFile: string,
  start: (stack: Supervisor) => Promise<void>,
): Promise<void> {
  const lock = DevLock.acquire(lockFile);
  // Every child from the moment it is spawned, ready or not: a stop during start-up ends it too.
  const stack = new Supervisor(lock, command);
  try {
    await start(stack);
  } catch (err) {
    if (err instanceof PortInUse) {
      console.error(`${command}: ${err.message}`);
      lock.release();
      process.exit(1);
    }
    await stack.fail(err);
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** One line a restart, prefixed so an operator (or a log search) finds them all. */
function report(message: string): void {
  console.error(`\n[restart] ${new Date().toISOString()} ${message}`);
}
