import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pkg from '../../package.json';
import { repoRoot } from './tools';

/**
 * V8 flags of every worker process: package.json `config.workerNodeOptions`, which `npm start`
 * passes too. The young generation is capped because V8 otherwise sizes it from the machine's
 * memory (up to 2 × 64 MB of semi-spaces per isolate on a large host, and the worker has two: the
 * main thread and the workflow thread); short-lived activation garbage does not need it.
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
