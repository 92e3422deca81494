import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * The build id a workflow bundle gets when none is set (CT_BUILD_ID): `wf-` and a hash of the
 * bundle, so a build whose workflow code did not change keeps its version. The worker
 * (workers/versioning.ts) and `npm run stack:prod`'s blue-green deploy (stack/blue-green.ts) both
 * name a build by it.
 */
export function bundleBuildId(bundlePath: string): string {
  return `wf-${createHash('sha256').update(readFileSync(bundlePath)).digest('hex').slice(0, 12)}`;
}
