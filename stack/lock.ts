import { openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { z } from 'zod';

const LockContent = z.object({
  pid: z.number().int(),
  startedAt: z.string(),
  uiUrl: z.string().optional(),
  /** Process-group leaders of the services, so a crashed run's leftovers can be cleaned up. */
  servicePids: z.array(z.number().int()).default([]),
  /** A versioned `npm run stack:prod` (CT_DEPLOYMENT_NAME): its builds, and its last blue-green deploy. */
  deployment: z
    .object({
      name: z.string(),
      /** The build id whose workers take new runs. */
      current: z.string(),
      /** Each worker the stack keeps up, and the build it runs. */
      workers: z.record(z.string(), z.string()),
      deploy: z
        .object({
          /** The request's id (`npm run stack:prod:deploy` waits for its own). */
          id: z.string(),
          from: z.string(),
          to: z.string().optional(),
          state: z.enum(['starting', 'switching', 'draining', 'retiring', 'done', 'failed']),
          message: z.string(),
          /** When each state was reached. */
          at: z.record(z.string(), z.string()),
        })
        .optional(),
    })
    .optional(),
});
export type LockContent = z.infer<typeof LockContent>;
export type DeployStatus = NonNullable<NonNullable<LockContent['deployment']>['deploy']>;

/** What a running stack's lock says (undefined: no lock, or one being rewritten at this moment). */
export function readLock(file: string): LockContent | undefined {
  const parsed = LockContent.safeParse(safeJson(file));
  return parsed.success ? parsed.data : undefined;
}

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

/** Whether a process with this pid exists (EPERM: it does, but is another user's). */
export function processAlive(pid: number): boolean {
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
      if (holder.success && processAlive(holder.data.pid)) throw new StackAlreadyRunning(holder.data);
      // The previous run died without cleaning up (kill -9, a crash): end what it left behind.
      for (const pid of holder.success ? holder.data.servicePids : []) {
        if (processAlive(pid)) {
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
