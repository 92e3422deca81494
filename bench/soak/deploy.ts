import { execFile, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DeployStatus } from '../../stack/lock';
import { readToolPaths, repoRoot } from '../../stack/tools';
import type { ExecutionRead } from './outcomes';
import type { ProdStack } from './prod-stack';

// The season's blue-green deploy, as a user makes it: `npm run stack:prod:deploy` on the running
// stack (stack/blue-green.ts does the steps), and afterwards what it did to the runs in flight — the
// executions whose workflow tasks ran on both builds, one history of each type kept in the form of
// test/histories/ (`temporal workflow show --output json`), ready to be replayed.

export interface DeployRun {
  exitCode: number | null;
  /** The stack's last word on the deploy (its lock's `deployment.deploy`), when the command gave it. */
  status?: DeployStatus;
  output: string;
}

/** `npm run stack:prod:deploy -- --bundle <bundle> --json`, on the stack's data folder. */
export async function deployBuild(stack: ProdStack, bundle: string): Promise<DeployRun> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEMPORAL_|CT_|npm_)/.test(k)));
  // What `npm run stack:prod:deploy` runs (package.json).
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/prod-deploy.ts', '--bundle', bundle, '--json'], {
    cwd: repoRoot,
    env: { ...base, NODE_OPTIONS: '', CT_DATA_DIR: stack.env.CT_DATA_DIR! },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exitCode = await new Promise<number | null>((resolve) => child.once('close', resolve));
  let status: DeployStatus | undefined;
  try {
    status = JSON.parse(out) as DeployStatus;
  } catch {
    // no report: the output says why
  }
  return { exitCode, status, output: `${err}${out}` };
}

/** The executions whose workflow tasks ran on both builds, by workflow type. */
export function acrossDeploy(executions: ExecutionRead[], from: string, to: string): ExecutionRead[] {
  return executions.filter((e) => e.builds.includes(from) && e.builds.includes(to));
}

/**
 * One history per workflow type among `across` (the longest: the most the new build replayed),
 * saved as `<dir>/<type>.json` in test/histories/'s form; the paths.
 */
export async function saveHistories(
  across: ExecutionRead[],
  dir: string,
  temporal: { address: string; namespace: string },
): Promise<string[]> {
  const longest = new Map<string, ExecutionRead>();
  for (const e of across) if ((longest.get(e.type)?.events ?? -1) < e.events) longest.set(e.type, e);
  mkdirSync(dir, { recursive: true });
  const saved: string[] = [];
  for (const e of longest.values()) {
    const { stdout } = await promisify(execFile)(
      readToolPaths().temporal,
      [
        'workflow',
        'show',
        '--address',
        temporal.address,
        '--namespace',
        temporal.namespace,
        '--workflow-id',
        e.workflowId,
        '--run-id',
        e.runId,
        '--output',
        'json',
      ],
      { maxBuffer: 256 * 1024 * 1024 },
    );
    const file = path.join(dir, `${e.type}.json`);
    writeFileSync(
      file,
      `${JSON.stringify({ workflowId: e.workflowId, history: JSON.parse(stdout) as unknown }, null, 1)}\n`,
    );
    saved.push(file);
  }
  return saved;
}
