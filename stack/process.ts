import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export interface ServiceOptions {
  name: string;
  command: string;
  args: string[];
  /** Where stdout and stderr go; omitted, they are shared with this process (the dev worker). */
  logFile?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * Own process group: a terminal Ctrl-C then reaches only the parent, which stops the services
   * in order (worker before server). Tests leave it off so the group dies with the test runner.
   */
  detached?: boolean;
  /**
   * Told of the process the moment it is spawned, before it is ready: whoever may have to stop
   * the stack (Ctrl-C during start-up) must know every child, not only the ones that came up.
   */
  onSpawn?: (service: Service) => void;
  /** Run as this user and group (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  /** What `stop` sends first; SIGTERM unless the program means something else by it. */
  stopSignal?: NodeJS.Signals;
}

export class ServiceStartError extends Error {
  override name = 'ServiceStartError';
}

/** A child process whose output goes to a log file, with a stop that always ends it. */
export class Service {
  readonly exited: Promise<number | null>;
  /** When it was spawned (ms since the epoch). */
  readonly startedAt = Date.now();
  private exitCode: number | null | undefined;
  private exitSignal: NodeJS.Signals | null = null;

  private constructor(
    readonly name: string,
    readonly logFile: string | undefined,
    private readonly child: ChildProcess,
    private readonly detached: boolean,
    private readonly stopSignal: NodeJS.Signals,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitSignal = signal;
        this.exitCode = code ?? (signal ? null : 0);
        resolve(this.exitCode);
      });
    });
  }

  static start(opts: ServiceOptions): Service {
    const fd = opts.logFile ? openSync(opts.logFile, 'a') : undefined;
    try {
      const child = spawn(opts.command, opts.args, {
        stdio: fd === undefined ? ['ignore', 'inherit', 'inherit'] : ['ignore', fd, fd],
        env: opts.env ?? process.env,
        cwd: opts.cwd,
        detached: opts.detached ?? false,
        ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
      });
      // Surface spawn errors (ENOENT, EACCES) through `exited` and logTail instead of crashing.
      child.on('error', (err) => console.error(`${opts.name}: ${err.message}`));
      const service = new Service(opts.name, opts.logFile, child, opts.detached ?? false, opts.stopSignal ?? 'SIGTERM');
      opts.onSpawn?.(service);
      return service;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** How it ended, for a report: `code 1` or `signal SIGKILL`. */
  get exitReason(): string {
    if (this.running) return 'still running';
    return this.exitSignal ? `signal ${this.exitSignal}` : `code ${this.exitCode}`;
  }

  /** After it died: SIGKILL whatever is left of its process group (a detached service's children). */
  killGroup(): void {
    if (!this.detached) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // no process left in the group
    }
  }

  logTail(lines = 20): string {
    if (!this.logFile) return '(see the output above)';
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** SIGTERM (or the service's stop signal), then SIGKILL after the grace period; resolves once it has exited. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.signal(this.stopSignal);
    // ref: false, so a pending grace timer never keeps this process alive after the exit.
    const done = await Promise.race([this.exited.then(() => true), delay(graceMs, false, { ref: false })]);
    if (!done) {
      this.signal('SIGKILL');
      await this.exited;
    }
  }

  private signal(sig: NodeJS.Signals): void {
    try {
      // A detached service leads its own group: signal the group so its children go too.
      if (this.detached) process.kill(-this.pid, sig);
      else this.child.kill(sig);
    } catch {
      // already gone
    }
  }
}

/** Polls `check` until it returns true; fails early, with the log, if the service dies first. */
export async function waitUntilReady(
  service: Service,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!service.running) {
      throw new ServiceStartError(
        `${service.name} exited during start-up. Last lines of ${service.logFile ?? 'its output'}:\n${service.logTail()}`,
      );
    }
    if (await check().catch(() => false)) return;
    await delay(100);
  }
  await service.stop();
  throw new ServiceStartError(
    `${service.name} was not ready after ${timeoutMs / 1000}s. Last lines of ${service.logFile ?? 'its output'}:\n${service.logTail()}`,
  );
}

export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await res.body?.cancel();
  return res.ok;
}

/**
 * A free port for a service to listen on, below the OS's ephemeral range (32768–60999 on Linux):
 * a port the OS handed out and took back can go to any outgoing connection's source before the
 * service binds it ("address already in use"); below that range only a listener takes it. Also the
 * Temporal server keeps membership ports in a PostgreSQL smallint.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    if (await isPortFree(port, host)) return port;
  }
}

export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}
