// Ctrl-C at any moment of `npm run dev`'s start-up stops every child it started, ready or not:
// nothing is left running detached and every port is free for the next `npm run dev`.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { processAlive } from '../../stack/lock';
import { devStackPorts } from '../helpers/dev-stack';
import { eventually } from '../helpers/eventually';

jest.setTimeout(300_000);

const root = path.join(__dirname, '..', '..');

/** Every process below `pid` (detached children keep their parent), with its command line. */
function descendants(pid: number): Map<number, string> {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]! }));
  const found = new Map<number, string>();
  let frontier = [pid];
  while (frontier.length) {
    const next = rows.filter((r) => frontier.includes(r.ppid) && !found.has(r.pid));
    for (const r of next) found.set(r.pid, r.args);
    frontier = next.map((r) => r.pid);
  }
  return found;
}

/** Something listens on the port (a connect, never a bind that could steal it from a starting server). */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

/** The moments to press Ctrl-C: a child of this kind has just been spawned (it is still starting). */
const moments: [string, (args: string) => boolean][] = [
  ['the Temporal dev server is starting', (a) => a.includes('server start-dev')],
  ['fake-gcs-server is starting', (a) => a.includes('fake-gcs-server')],
  ['the Vertex AI emulator is starting', (a) => a.includes(path.join('emulators', 'vertex-ai', 'main.ts'))],
  ['the worker is starting', (a) => a.includes(path.join('workers', 'main.ts'))],
];

test.each(moments)('Ctrl-C while %s leaves no process and no port', async (_, spawned) => {
  const ports = await devStackPorts();
  const env = {
    ...process.env,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    CT_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'ct-dev-int-')),
  };
  // Its own process group, so the SIGINT reaches npm and the dev script as a terminal's Ctrl-C does.
  const child = spawn('npm', ['run', 'dev'], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const seen = new Map<number, string>();
  try {
    await eventually(() => {
      for (const [pid, args] of descendants(child.pid!)) seen.set(pid, args);
      return [...seen.values()].some(spawned) ? true : undefined;
    }, 120_000);
  } finally {
    process.kill(-child.pid!, 'SIGINT');
    await closed;
  }
  expect(out).not.toMatch(/npm run dev: .*(exited during start-up|unexpected)/);
  // Given a moment to go (a SIGKILL after the grace period at worst), nothing it started is left.
  const left = await eventually(async () => {
    const pids = [...seen.keys()].filter(processAlive);
    const busy = (
      await Promise.all(Object.values(ports).map(async (p) => ((await listening(p)) ? p : undefined)))
    ).filter((p) => p !== undefined);
    return pids.length || busy.length ? undefined : { pids, busy };
  }, 20_000).catch(() => ({
    pids: [...seen.keys()].filter(processAlive).map((p) => `${p} ${seen.get(p)}`),
    busy: 'see pids',
  }));
  for (const pid of [...seen.keys()].filter(processAlive)) {
    try {
      process.kill(pid, 'SIGKILL'); // clean up after a failure, so it does not leak into other tests
    } catch {
      // gone
    }
  }
  expect(left).toEqual({ pids: [], busy: [] });
});
