import { openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { z } from 'zod';

const LockContent = z.object({
  pid: z.number().int(),
  startedAt: z.string(),
  uiUrl: z.string().optional(),
  /** Process-group leaders of the services, so a crashed run's leftovers can be cleaned up. */
  servicePids: z.array(z.number().int()).default([]),
});
export type LockContent = z.infer<typeof LockContent>;

export class StackAlreadyRunning extends Error {
  override name = 'StackAlreadyRunning';
  constructor(readonly holder: LockContent) {
    super(
      `the local stack is already running (pid ${holder.pid}, since ${holder.startedAt})` +
        (holder.uiUrl ? `; its UI is ${holder.uiUrl}` : '') +
        `.\nUse that one, or stop it with Ctrl-C in its terminal (or kill ${holder.pid}) and start again.`,
    );
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One `npm run dev` per data folder: the lock holds our pid and the services we started. */
export class DevLock {
  private content: LockContent;

  private constructor(private readonly file: string) {
    this.content = { pid: process.pid, startedAt: new Date().toISOString(), servicePids: [] };
  }

  static acquire(file: string): DevLock {
    const lock = new DevLock(file);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        closeSync(openSync(file, 'wx'));
        lock.write();
        return lock;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = LockContent.safeParse(safeJson(file));
      if (holder.success && alive(holder.data.pid)) throw new StackAlreadyRunning(holder.data);
      // The previous run died without cleaning up (kill -9, a crash): end what it left behind.
      for (const pid of holder.success ? holder.data.servicePids : []) {
        if (alive(pid)) {
          try {
            process.kill(-pid, 'SIGKILL');
          } catch {
            // not a group leader any more
          }
        }
      }
      rmSync(file, { force: true });
    }
    throw new Error(`could not take the lock ${file}`);
  }

  update(patch: Partial<LockContent>): void {
    this.content = { ...this.content, ...patch };
    this.write();
  }

  release(): void {
    rmSync(this.file, { force: true });
  }

  private write(): void {
    writeFileSync(this.file, JSON.stringify(this.content, null, 2));
  }
}

function safeJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}
