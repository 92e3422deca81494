// `npm run stack:prod:deploy [-- --bundle FILE] [--build-id ID] [--json]`: a blue-green deploy of
// the running, versioned `npm run stack:prod` (CT_DEPLOYMENT_NAME; the same CT_DATA_DIR): its
// new build's workers started beside the old ones, made current, the old ones stopped once no run
// is pinned to them (stack/blue-green.ts). Prints each step until the deploy is done; exit 1 when
// it failed or was refused. The bundle is npm run build's dist/workflow-bundle.js by default.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { loadLocalStackEnv } from '../config/env';
import { DeployRequest } from '../stack/blue-green';
import { readLock, type DeployStatus } from '../stack/lock';
import { stackFolders } from '../stack/stack-setup';
import { repoRoot } from '../stack/tools';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { bundle: { type: 'string' }, 'build-id': { type: 'string' }, json: { type: 'boolean' } },
  });
  const { dataDir } = stackFolders(loadLocalStackEnv().CT_DATA_DIR, 'prod');
  const lockFile = path.join(dataDir, 'stack.lock');
  const lock = readLock(lockFile);
  if (!lock) throw new Error(`no npm run stack:prod is running on ${dataDir} (no lock there)`);
  if (!lock.deployment)
    throw new Error('the stack runs unversioned workers: start it with CT_DEPLOYMENT_NAME (docs/production.md)');
  const request = DeployRequest.parse({
    id: randomUUID(),
    bundle: path.resolve(values.bundle ?? path.join(repoRoot, 'dist', 'workflow-bundle.js')),
    buildId: values['build-id'],
  });
  writeFileSync(path.join(dataDir, 'deploy-request.json'), JSON.stringify(request));
  process.kill(lock.pid, 'SIGUSR2');
  console.error(`asked the stack (pid ${lock.pid}) to deploy ${request.bundle} …`);

  let seen = '';
  let unread = 0;
  for (;;) {
    const now = readLock(lockFile);
    // Unreadable for a moment while the stack rewrites it; gone for good when the stack stopped.
    unread = now ? 0 : unread + 1;
    if (unread > 20) throw new Error(`the stack stopped before the deploy ended${seen ? ` (it was ${seen})` : ''}`);
    const deploy: DeployStatus | undefined = now?.deployment?.deploy;
    if (deploy?.id === request.id) {
      if (deploy.state !== seen) {
        seen = deploy.state;
        console.error(`${deploy.state}: ${deploy.message}`);
      }
      if (deploy.state === 'done' || deploy.state === 'failed') {
        if (values.json) console.log(JSON.stringify(deploy, null, 2));
        return deploy.state === 'done' ? 0 : 1;
      }
    }
    await sleep(500);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`npm run stack:prod:deploy: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
