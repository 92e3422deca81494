import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processAlive } from '../../stack/lock';
import { freePort } from '../../stack/process';
import { repoRoot } from '../../stack/tools';

// `npm run stack:prod` as a person runs it, started by the soak in a process group of its own (so a
// Ctrl-C reaches it as from a terminal), on free ports and a data folder of the soak's own. What
// dies in it is restarted by its own supervisor (stack/supervisor.ts), which is the point: the
// soak's kills go through the same restarts a user has.

export interface ProdStack {
  env: Record<string, string>;
  dataDir: string;
  temporalAddress: string;
  vertexControlUrl: string;
  vertexApiEndpoint: string;
  gcsEndpoint: string;
  /** Everything the stack printed so far (its banner and every [restart] report). */
  output: () => string;
  /** The stack's processes alive now, by the name of the log they write (worker-1, temporal, postgres, …). */
  processes: () => StackProcess[];
  /** A terminal's Ctrl-C; resolves with the stack's exit code once it and every child are gone. */
  stop: () => Promise<string>;
  exited: Promise<string>;
}

export interface StackProcess {
  name: string;
  pid: number;
}

/** Every port stack:prod opens, each a free one, as the variables that set them. */
async function stackPorts(): Promise<Record<string, string>> {
  const ports: Record<string, number> = {};
  for (const name of [
    'TEMPORAL_PORT',
    'TEMPORAL_UI_PORT',
    'TEMPORAL_HTTP_PORT',
    'TEMPORAL_METRICS_PORT',
    'FAKE_GCS_PORT',
    'VERTEX_EMULATOR_PORT',
    'VERTEX_EMULATOR_CONTROL_PORT',
    'VERTEX_EMULATOR_TLS_PORT',
    'DB_PORT',
    'HISTORY_GRPC_PORT',
    'MATCHING_GRPC_PORT',
    'WORKER_GRPC_PORT',
  ])
    ports[name] = await freePort();
  // The server keeps membership ports in a PostgreSQL smallint.
  for (const name of [
    'FRONTEND_MEMBERSHIP_PORT',
    'HISTORY_MEMBERSHIP_PORT',
    'MATCHING_MEMBERSHIP_PORT',
    'WORKER_MEMBERSHIP_PORT',
  ])
    ports[name] = await freePort();
  return Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)]));
}

/** Which of the stack's services a process is: the log its stdout goes to (logs/worker-2.log → worker-2). */
function serviceName(pid: number, logDir: string): string | undefined {
  try {
    const out = readlinkSync(`/proc/${pid}/fd/1`);
    return out.startsWith(logDir) ? path.basename(out, '.log') : undefined;
  } catch {
    return undefined;
  }
}

export interface StackOptions {
  /** Run `npm run stack:prod` with its pre-step (tools and `npm run build`); false: the script alone, on a build already made. */
  build: boolean;
  /** Variables a user would set for the stack (CT_CONFIG, CT_VERTEX_WATCH_INTERVAL_MS, …). */
  env: Record<string, string>;
  /** Where the stack's output is also written. */
  logFile: string;
  upWithinMs?: number;
}

export async function startProdStack(o: StackOptions): Promise<ProdStack> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ct-soak-'));
  // PostgreSQL runs as the postgres user when this runs as root: it must reach the folder.
  chmodSync(dataDir, 0o755);
  const env: Record<string, string> = { ...(await stackPorts()), CT_DATA_DIR: dataDir, ...o.env };
  // Without this process's Temporal and ct variables: the soak's own say where everything goes.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEMPORAL_|CT_|npm_)/.test(k)));
  const [command, args] = o.build
    ? ['npm', ['run', 'stack:prod']]
    : // What `npm run stack:prod` runs after its pre-step (package.json).
      [path.join(repoRoot, 'node_modules', '.bin', 'node'), ['--import', 'tsx', 'scripts/prod.ts']];
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: { ...base, NODE_OPTIONS: '', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const take = (d: Buffer) => {
    out += d.toString();
    appendFileSync(o.logFile, d);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  // 'close': once every holder of the pipes (the script, its servers and workers) is gone.
  const exited = new Promise<string>((resolve) =>
    child.once('close', (code, signal) => resolve(signal ?? String(code))),
  );
  let gone: string | undefined;
  void exited.then((c) => (gone = c));
  const deadline = Date.now() + (o.upWithinMs ?? 600_000);
  while (!out.includes('Ctrl-C stops everything')) {
    if (gone !== undefined)
      throw new Error(`npm run stack:prod exited (${gone}) before it was up:\n${out.slice(-4000)}`);
    if (Date.now() > deadline) {
      process.kill(-child.pid!, 'SIGINT');
      await exited;
      throw new Error(`npm run stack:prod was not up after ${(o.upWithinMs ?? 600_000) / 1000}s:\n${out.slice(-4000)}`);
    }
    await sleep(250);
  }
  const logDir = path.join(dataDir, 'prod', 'logs');
  const lockFile = path.join(dataDir, 'prod', 'stack.lock');
  return {
    env,
    dataDir,
    temporalAddress: `127.0.0.1:${env.TEMPORAL_PORT}`,
    vertexControlUrl: `http://127.0.0.1:${env.VERTEX_EMULATOR_CONTROL_PORT}`,
    vertexApiEndpoint: `127.0.0.1:${env.VERTEX_EMULATOR_PORT}`,
    gcsEndpoint: `http://127.0.0.1:${env.FAKE_GCS_PORT}`,
    output: () => out,
    processes: () => {
      // The lock names the group leaders the supervisor spawned; a restarted one is added when spawned.
      let pids: number[] = [];
      try {
        pids = (JSON.parse(readFileSync(lockFile, 'utf8')) as { servicePids: number[] }).servicePids;
      } catch {
        // rewritten at this moment: read /proc instead
      }
      if (!pids.length)
        pids = readdirSync('/proc')
          .filter((p) => /^\d+$/.test(p))
          .map(Number);
      return pids
        .filter(processAlive)
        .flatMap((pid) => {
          const name = serviceName(pid, logDir);
          return name ? [{ name, pid }] : [];
        })
        .sort((a, b) => a.name.localeCompare(b.name));
    },
    stop: () => {
      try {
        process.kill(-child.pid!, 'SIGINT');
      } catch {
        // already gone
      }
      return exited;
    },
    exited,
  };
}
