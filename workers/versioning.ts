import type { WorkerDeploymentOptions } from '@temporalio/worker';
import { bundleBuildId } from '../config/build-id';
import { InvalidEnvironment } from '../config/env';

// Worker Deployment Versioning: each build of the worker is a version of one deployment, and the
// server sends a run's workflow tasks to the version its behaviour says (workflows/index.ts sets
// PINNED or AUTO_UPGRADE per workflow type). Deploys are blue-green: start the new build's workers
// beside the old, `ct deploy check` it, then `temporal worker deployment set-current-version`; old
// workers stay until their pinned runs have drained. Rolling restarts do not fit: a restarted
// worker of another build would take the old version's tasks.

/**
 * The version a worker runs as, or undefined when versioning is off (no CT_DEPLOYMENT_NAME, as in
 * `npm run dev` and most tests). The build id defaults to a hash of the workflow bundle, so a build
 * whose workflow code did not change keeps its version (activities may change under a version:
 * they do not take part in replay).
 */
export function deploymentOptions(env: {
  CT_DEPLOYMENT_NAME?: string;
  CT_BUILD_ID?: string;
  CT_WORKFLOW_BUNDLE?: string;
}): WorkerDeploymentOptions | undefined {
  if (!env.CT_DEPLOYMENT_NAME) return undefined;
  let buildId = env.CT_BUILD_ID;
  if (!buildId) {
    if (!env.CT_WORKFLOW_BUNDLE)
      throw new InvalidEnvironment(
        'CT_DEPLOYMENT_NAME is set, but the build has no id: set CT_BUILD_ID, or CT_WORKFLOW_BUNDLE (npm run build) to derive it from the bundle',
      );
    buildId = bundleBuildId(env.CT_WORKFLOW_BUNDLE);
  }
  return {
    version: { deploymentName: env.CT_DEPLOYMENT_NAME, buildId },
    useWorkerVersioning: true,
    // For a workflow type added without a choice of its own: its runs finish on the build that started them.
    defaultVersioningBehavior: 'PINNED',
  };
}
