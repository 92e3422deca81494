// Worker Deployment Versioning on the dev server: a pinned run in flight on build A, then build B
// (a changed workflow) deployed and made current with the Temporal CLI. The A run ends correctly on
// A; new runs go to B. Without versioning the A run's next task could land on B and fail to replay.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeVersioningBehavior } from '@temporalio/common';
import type { WorkerDeploymentOptions } from '@temporalio/worker';
import { releaseSignal, statusQuery } from '../../contracts';
import { readToolPaths } from '../../stack/tools';
import type { stackCheck } from '../../workflows';
import { deploymentOptions } from '../../workers/versioning';
import { uniqueId, withWorker } from '../helpers/temporal';
import { bundleBuildB } from '../helpers/build-b';
import { eventually } from '../helpers/eventually';
import { testStack } from '../setup/test-stack';

jest.setTimeout(180_000);

async function setCurrentVersion(deploymentName: string, buildId: string): Promise<void> {
  const env = testStack();
  // The version exists once one of its workers has polled: retried until the server knows it.
  await eventually(async () => {
    await promisify(execFile)(readToolPaths().temporal, [
      'worker',
      'deployment',
      'set-current-version',
      '--address',
      env.CT_TEST_TEMPORAL_ADDRESS,
      '--namespace',
      env.CT_TEST_NAMESPACE,
      '--deployment-name',
      deploymentName,
      '--build-id',
      buildId,
      '--yes',
    ]);
    return true;
  }, 30_000);
}

test('the build id is derived from the workflow bundle, and versioning is off without a deployment name', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-build-'));
  writeFileSync(path.join(dir, 'a.js'), 'a');
  writeFileSync(path.join(dir, 'b.js'), 'b');
  const a = deploymentOptions({ CT_DEPLOYMENT_NAME: 'ct', CT_WORKFLOW_BUNDLE: path.join(dir, 'a.js') });
  const b = deploymentOptions({ CT_DEPLOYMENT_NAME: 'ct', CT_WORKFLOW_BUNDLE: path.join(dir, 'b.js') });
  expect(a?.version.buildId).toMatch(/^wf-[0-9a-f]{12}$/);
  expect(a?.version.buildId).not.toBe(b?.version.buildId);
  expect(deploymentOptions({ CT_DEPLOYMENT_NAME: 'ct', CT_BUILD_ID: 'v7' })?.version).toEqual({
    deploymentName: 'ct',
    buildId: 'v7',
  });
  expect(deploymentOptions({ CT_WORKFLOW_BUNDLE: path.join(dir, 'a.js') })).toBeUndefined();
  expect(() => deploymentOptions({ CT_DEPLOYMENT_NAME: 'ct' })).toThrow(/set CT_BUILD_ID, or CT_WORKFLOW_BUNDLE/);
});

test('a pinned run in flight on build A finishes on A after B is made current; new runs go to B', async () => {
  const deploymentName = uniqueId('ct-deploy').replace(/[^A-Za-z0-9_-]/g, '-');
  const version = (buildId: string): WorkerDeploymentOptions => ({
    version: { deploymentName, buildId },
    useWorkerVersioning: true,
    defaultVersioningBehavior: 'PINNED',
  });
  const bundleB = await bundleBuildB();
  const taskQueue = uniqueId('tq-versioned');
  const input = { bucket: testStack().CT_TEST_GCS_BUCKET, holdSeconds: 600 };

  await withWorker(
    async (a) => {
      await setCurrentVersion(deploymentName, 'A');
      const inFlight = await a.client.workflow.start<typeof stackCheck>('stackCheck', {
        taskQueue,
        workflowId: uniqueId('versioned-a'),
        args: [input],
      });
      await eventually(async () => ((await inFlight.query(statusQuery)).phase === 'holding' ? true : undefined));
      // The behaviour chosen per workflow type (workflows/index.ts): a short run pinned, one that waits days auto-upgrading.
      const behaviourOf = async (id: string) =>
        decodeVersioningBehavior(
          (await a.client.workflow.getHandle(id).describe()).raw.workflowExecutionInfo?.versioningInfo?.behavior,
        );
      expect(await behaviourOf(inFlight.workflowId)).toBe('PINNED');
      const waiting = await a.client.workflow.start('waitForModel', {
        taskQueue,
        workflowId: uniqueId('versioned-wait'),
        args: [{ environment: 'staging', pipeline: 'no-such-pipeline' }],
      });
      await waiting.result().catch(() => undefined);
      expect(await behaviourOf(waiting.workflowId)).toBe('AUTO_UPGRADE');

      await withWorker(
        async () => {
          await setCurrentVersion(deploymentName, 'B');
          const fresh = await a.client.workflow.execute<typeof stackCheck>('stackCheck', {
            taskQueue,
            workflowId: uniqueId('versioned-b'),
            args: [input],
          });
          expect(fresh).toEqual({ build: 'B' });

          await inFlight.signal(releaseSignal, { by: 'versioning-test' });
          const result = await inFlight.result();
          expect(result.releasedBy).toBe('versioning-test');
          expect(result.objectUri).toMatch(/^gs:\/\//);
          const info = (await inFlight.describe()).raw.workflowExecutionInfo?.versioningInfo;
          expect(info?.deploymentVersion).toMatchObject({ deploymentName, buildId: 'A' });
        },
        { taskQueue, workflowBundle: bundleB, deployment: version('B') },
      );
    },
    { taskQueue, deployment: version('A') },
  );
});
