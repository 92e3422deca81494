// What a rollout does when something goes wrong or someone steps in: a smoke prediction that fails
// (the candidate never gets traffic), a cancel mid-step (the split from before, restored), health
// that cannot be read (never counted as healthy), and a newer champion promoted while a rollout
// waits (the newer one wins, with approvals). Each test in a Vertex project of its own.
import { WorkflowFailedError } from '@temporalio/client';
import { approveRolloutStep } from '../../client/rollout';
import { getEndpoint } from '../helpers/endpoints';
import type { PipelineSpec } from '../helpers/pipelines';
import type { PredictionLoad } from '../helpers/prediction-load';
import { rollOut, rolloutUntil, servedProject, servingV1, uploadServed, type Served } from '../helpers/serving-steps';
import { withWorker, type WorkerContext } from '../helpers/temporal';
import { emulatorControl, vertexClients } from '../helpers/vertex';

jest.setTimeout(120_000);
const control = emulatorControl();
const vertex = vertexClients();
afterAll(() => vertex.close());

let served: Served;
let load: PredictionLoad | undefined;
afterEach(async () => {
  await load?.stop();
  load = undefined;
  await served.iso.cleanup();
});

/** A serving pipeline of the test's own with these rules, version 1 under load; runs `fn` with a worker. */
async function serving<R>(
  over: Partial<NonNullable<PipelineSpec['serving']>>,
  fn: (ctx: WorkerContext, s: Awaited<ReturnType<typeof servingV1>>) => Promise<R>,
): Promise<R> {
  served = servedProject(over);
  return withWorker(
    async (ctx) => {
      const s = await servingV1(vertex, served);
      load = s.load;
      return fn(ctx, s);
    },
    { project: served.iso, taskQueue: served.iso.project },
  );
}

const deployedIds = async (endpoint: string) => (await getEndpoint(vertex, endpoint)).deployedModels!.map((d) => d.id);

test('a failing smoke prediction ends the rollout before the candidate is deployed: it never receives traffic', async () => {
  // The emulator echoes each instance: the golden set expects something else of one of them.
  const smoke = { instances: [{ x: 1 }, { x: 2 }], expected: [{ x: 1 }, { x: 3 }] };
  await serving({ smoke }, async (ctx, { endpoint, old, v2 }) => {
    const result = await (await rollOut(ctx.client, served, v2.versionId)).result();
    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toMatch(
      /^smoke prediction failed on 1 of 2 instances \(instance 1: expected \{"x":3\}, got \{"x":2\}\); no traffic moved/,
    );
    expect(await getEndpoint(vertex, endpoint)).toMatchObject({ trafficSplit: { [old]: 100 } });
    expect(await deployedIds(endpoint)).toEqual([old]);
    expect(Object.keys((await load!.stop()).byDeployedModel)).toEqual([old]);
    // The smoke endpoint is left with nothing deployed.
    const smokeEndpoint = (await control.endpoints(served.iso.project)).find(
      (e) => e.displayName === `${served.name}-smoke`,
    );
    expect(smokeEndpoint?.deployedModels ?? []).toEqual([]);
  });
});

test('a passing smoke prediction lets the rollout go on to 100 %', async () => {
  const smoke = { instances: [{ x: 1 }], expected: [{ x: 1 }] };
  await serving({ smoke }, async (ctx, { v2 }) => {
    const result = await (await rollOut(ctx.client, served, v2.versionId)).result();
    expect(result.outcome).toBe('done');
  });
});

test('cancel mid-step restores the split from before the rollout and undeploys the candidate', async () => {
  await serving({ watch: '10m' }, async (ctx, { endpoint, old, v2 }) => {
    const handle = await rollOut(ctx.client, served, v2.versionId);
    const canary = await rolloutUntil(handle, (s) => s.phase === 'canary');
    expect(Object.values(canary.split).sort()).toEqual([50, 50]);
    await handle.cancel();
    const err = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.name).toBe('CancelledFailure');
    expect(await getEndpoint(vertex, endpoint)).toMatchObject({ trafficSplit: { [old]: 100 } });
    expect(await deployedIds(endpoint)).toEqual([old]);
  });
});

test('health that cannot be read (Monitoring answers 429) never lets a step pass: the rollout rolls back', async () => {
  await serving({}, async (ctx, { endpoint, old, v2 }) => {
    await control.addFault({
      method: 'ListTimeSeries',
      project: served.iso.project,
      code: 'RESOURCE_EXHAUSTED',
      probability: 1,
    });
    const result = await (await rollOut(ctx.client, served, v2.versionId)).result();
    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toMatch(/^step 50 %: health could not be read: .*RESOURCE_EXHAUSTED/);
    expect(await getEndpoint(vertex, endpoint)).toMatchObject({ trafficSplit: { [old]: 100 } });
    expect(await deployedIds(endpoint)).toEqual([old]);
  });
});

test('a newer champion promoted while a rollout waits for approval supersedes it: the newer version is rolled out', async () => {
  await serving({ approveEachStep: true }, async (ctx, { endpoint, old, v1, v2 }) => {
    const first = await rollOut(ctx.client, served, v2.versionId);
    await rolloutUntil(first, (s) => s.phase === 'awaiting-approval' && s.version === v2.versionId);
    const v3 = await uploadServed(vertex, served, v1.model);
    await rollOut(ctx.client, served, v3.versionId);
    const target = { pipeline: served.pipeline, environment: 'staging' };
    for (const percent of [50, 100]) {
      await rolloutUntil(
        first,
        (s) => s.phase === 'awaiting-approval' && s.version === v3.versionId && s.step?.percent === percent,
      );
      await approveRolloutStep(ctx.client, target, { by: 'test' });
    }
    // The handle follows the run's continue-as-new to its end.
    const result = await first.result();
    expect(result).toMatchObject({ outcome: 'done', version: v3.versionId });
    const deployed = await getEndpoint(vertex, endpoint);
    expect(deployed.deployedModels!.map((d) => d.modelVersionId)).toEqual([v3.versionId]);
    expect(deployed.deployedModels!.map((d) => d.id)).not.toContain(old);
  });
});

test('approving a rollout that is not waiting for one is refused, naming its phase', async () => {
  await serving({ watch: '10m' }, async (ctx, { v2 }) => {
    const handle = await rollOut(ctx.client, served, v2.versionId);
    await rolloutUntil(handle, (s) => s.phase === 'canary');
    await expect(
      approveRolloutStep(ctx.client, { pipeline: served.pipeline, environment: 'staging' }, { by: 'test' }),
    ).rejects.toThrow(/the rollout is canary, not waiting for an approval/);
    await handle.cancel();
  });
});
