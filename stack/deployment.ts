import { setTimeout as delay } from 'node:timers/promises';
import { Connection } from '@temporalio/client';

// The Worker Deployment calls `npm run stack:prod` makes for its versioned workers
// (docs/production.md#safe-deploys-while-runs-are-in-flight-worker-deployment-versioning): which
// build takes new runs, and whether an old build still has runs pinned to it. The same calls as
// `temporal worker deployment set-current-version` and a visibility count.

export interface DeploymentTarget {
  address: string;
  namespace: string;
  deploymentName: string;
}

const IDENTITY = 'npm run stack:prod';

async function withConnection<T>(address: string, fn: (c: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address, connectTimeout: 5_000 });
  try {
    return await fn(connection);
  } finally {
    await connection.close();
  }
}

/**
 * Makes `buildId` the current version: new runs, and the AUTO_UPGRADE runs at their next task, go
 * to its workers. The server knows a version once one of its workers has polled, and refuses while
 * it does not poll every task queue the current one does: retried until `withinMs` (the server may
 * also be restarting). It answers before matching's partitions route by the new version, so a run
 * started a moment later may still go to the old build, whose workers stay until its pinned runs end.
 */
export async function setCurrentVersion(t: DeploymentTarget, buildId: string, withinMs = 120_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      await withConnection(t.address, (c) =>
        c.workflowService.setWorkerDeploymentCurrentVersion({
          namespace: t.namespace,
          deploymentName: t.deploymentName,
          buildId,
          identity: IDENTITY,
        }),
      );
      return;
    } catch (err) {
      if (Date.now() + 1_000 > deadline)
        throw new Error(
          `could not make ${t.deploymentName}:${buildId} current within ${withinMs / 1000}s: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      await delay(1_000);
    }
  }
}

/**
 * Open runs pinned to `buildId` (PINNED workflow types: workflows/index.ts). Once none is left and
 * the build is no longer current, its workers have nothing to do: AUTO_UPGRADE runs move to the
 * current build at their next task. The server's own drainage status (`describe-version`) says the
 * same minutes later: it refreshes on a period and waits out visibility's lag.
 */
export async function openPinnedRuns(t: DeploymentTarget, buildId: string): Promise<number> {
  return withConnection(t.address, async (c) => {
    const res = await c.workflowService.countWorkflowExecutions({
      namespace: t.namespace,
      query:
        `TemporalWorkerDeploymentVersion = "${t.deploymentName}:${buildId}" AND ` +
        `TemporalWorkflowVersioningBehavior = "Pinned" AND ExecutionStatus = "Running"`,
    });
    return Number(res.count ?? 0);
  });
}
