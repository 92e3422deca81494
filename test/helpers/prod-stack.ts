import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../stack/process';
import { repoRoot } from '../../stack/tools';
import { testStack } from '../setup/test-stack';
import { devStackPorts } from './dev-stack';
import { startStackProcess, type StackProcess } from './stack-process';

// `npm run stack:prod` (scripts/prod.ts) as a person runs it, on ports and a data folder of the
// test's own; the compiled worker and workflow bundle are the global setup's (`npm run build`'s
// output, which the script's pre-step would otherwise remake).

export interface ProdRun extends StackProcess {
  env: Record<string, string>;
}

/**
 * Ports and a data folder of the test's own. The folder is opened to others (PostgreSQL runs as the
 * postgres user when the tests run as root) unless `privateDataDir`: then it stays mktemp's 0700,
 * as a clone in root's home would be.
 */
export async function prodStackEnv(opts: { privateDataDir?: boolean } = {}): Promise<Record<string, string>> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ct-prod-'));
  if (!opts.privateDataDir) chmodSync(dataDir, 0o755);
  const ports: Record<string, number> = {
    ...(await devStackPorts()),
    DB_PORT: await freePort(),
    HISTORY_GRPC_PORT: await freePort(),
    MATCHING_GRPC_PORT: await freePort(),
    WORKER_GRPC_PORT: await freePort(),
    FRONTEND_MEMBERSHIP_PORT: await freePort(),
    HISTORY_MEMBERSHIP_PORT: await freePort(),
    MATCHING_MEMBERSHIP_PORT: await freePort(),
    WORKER_MEMBERSHIP_PORT: await freePort(),
  };
  return {
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    CT_DATA_DIR: dataDir,
    CT_WORKFLOW_BUNDLE: testStack().CT_TEST_WORKFLOW_BUNDLE,
  };
}

export function startProdStack(env: Record<string, string>): ProdRun {
  // Without the caller's Temporal and worker variables: the config alone says where runs go.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEMPORAL_|CT_)/.test(k)));
  // As `npm run stack:prod` runs it (package.json): node with tsx as a loader, no tsx process between.
  const run = startStackProcess(
    'stack:prod',
    path.join(repoRoot, 'node_modules', '.bin', 'node'),
    ['--import', 'tsx', 'scripts/prod.ts'],
    {
      cwd: repoRoot,
      env: { ...base, NODE_OPTIONS: '', ...env },
      upWithin: 180_000,
    },
  );
  return { ...run, env };
}
