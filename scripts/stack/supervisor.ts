import type { DevLock } from './lock';
import type { Service } from './process';

// The foreground stacks (`npm run dev`, `npm run stack:prod`) knowing every child from the moment
// it is spawned, and stopping all of them in order on Ctrl-C, SIGTERM or a child's unexpected exit.

/** Stop order: workers first, so they drain while the server can still take their reports; the database last, once nothing writes to it. */
const tiers: ((s: Service) => boolean)[] = [
  (s) => s.name.startsWith('worker'),
  (s) => s.name !== 'postgres',
  () => true,
];

export class Supervisor {
  readonly services: Service[] = [];
  private stoppingFlag = false;

  constructor(
    private readonly lock: DevLock,
    private readonly command: string,
  ) {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void this.stopAll(0));
  }

  get stopping(): boolean {
    return this.stoppingFlag;
  }

  /** Pass as each service's onSpawn: a stop during start-up then ends it too. */
  readonly onSpawn = (s: Service): void => {
    this.services.push(s);
    this.lock.update({ servicePids: this.services.map((x) => x.pid) });
    // Spawned by a start-up step that was already under way when the stop came.
    if (this.stoppingFlag) void s.stop();
  };

  /** Once everything is up: any child that exits on its own takes the stack down, with its last lines. */
  watchExits(): void {
    for (const s of this.services) {
      void s.exited.then((code) => {
        if (this.stoppingFlag) return;
        console.error(`\n${s.name} exited unexpectedly (code ${code}). Last lines:\n${s.logTail()}`);
        void this.stopAll(1);
      });
    }
  }

  async stopAll(code: number): Promise<void> {
    if (this.stoppingFlag) return;
    this.stoppingFlag = true;
    console.log('\nstopping: workers first, then the servers…');
    for (const inTier of tiers) {
      await Promise.all(this.services.filter((s) => s.running && inTier(s)).map((s) => s.stop(15_000)));
    }
    // Until none is left: a start-up step may spawn one more while these stop.
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
