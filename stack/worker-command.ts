import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pkg from '../package.json';
import { repoRoot } from './tools';

/**
 * V8 flags of every worker process: package.json `config.workerNodeOptions`, which `npm start`
 * passes too. Both generations are capped because V8 otherwise sizes them from the machine's
 * memory, per isolate, and the worker has two (the main thread and the workflow thread): up to
 * 2 × 64 MB of semi-spaces, which short-lived activation garbage does not need, and an old
 * generation of ~4 GB on a 24 GB host, which V8 then lets garbage fill: ~0.9 GB RSS per worker
 * at 1,000 watched jobs in bench:scale. 256 MB is well above what a worker keeps live at its
 * activity-slot limit (workers/worker.ts).
 */
export const workerNodeOptions: string[] = pkg.config.workerNodeOptions.split(/\s+/).filter(Boolean);

/**
 * How a worker process is launched. `compiled` is the production form (`npm run build`, then
 * `node dist/workers/main.js`): what the tests that kill workers and bench:prediction run. `source`
 * runs workers/main.ts through tsx, for `npm run dev` (edit and restart, no build).
 */
export function workerCommand(form: 'compiled' | 'source'): { command: string; args: string[] } {
  const entry =
    form === 'compiled'
      ? [path.join(repoRoot, 'dist', 'workers', 'main.js')]
      : ['--import', 'tsx', path.join(repoRoot, 'workers', 'main.ts')];
  return { command: process.execPath, args: [...workerNodeOptions, ...entry] };
}

/** `npm run build`'s compile step (dist/), so a spawned worker is the code of this checkout. */
export async function compileWorker(): Promise<void> {
  const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', path.join(repoRoot, 'tsconfig.build.json')], {
      cwd: repoRoot,
    });
  } catch (err) {
    const out = (err as { stdout?: string }).stdout ?? '';
    throw new Error(`compiling the worker (tsc -p tsconfig.build.json) failed:\n${out || String(err)}`, { cause: err });
  }
}
