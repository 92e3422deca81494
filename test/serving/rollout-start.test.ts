// How rollouts start and survive: a training run's promotion starts the endpoint's rollout (a
// first one, on an endpoint it creates), and a worker SIGKILLed while DeployModel runs leaves one
// deployed model, not two. Each test in a Vertex project of its own.
import type { Client } from '@temporalio/client';
import { startTrainingRun } from '../../client/training';
import { rolloutId } from '../../contracts';
import type { Service } from '../../stack/process';
import type { modelRollout } from '../../workflows';
import { getEndpoint } from '../helpers/endpoints';
import { eventually } from '../helpers/eventually';
import { uniquePartition, type IsolatedProject } from '../helpers/isolation';
import { startPredictionLoad, type PredictionLoad } from '../helpers/prediction-load';
import { rollOut, rolloutUntil, servedProject, servingV1, type Served } from '../helpers/serving-steps';
import { connectTestClient, withWorker } from '../helpers/temporal';
import { emulatorControl, vertexClients } from '../helpers/vertex';
import { startWorkerProcess } from '../helpers/worker-process';

jest.setTimeout(180_000);
const control = emulatorControl();
const vertex = vertexClients();
afterAll(() => vertex.close());

let served: Served;
let iso: IsolatedProject;
let load: PredictionLoad | undefined;
beforeEach(() => ({ iso } = served = servedProject()));
afterEach(async () => {
  await load?.stop();
  load = undefined;
  await iso.cleanup();
});

test('a promotion starts the rollout: the endpoint is created and the first champion serves all traffic', async () => {
  await withWorker(
    async (ctx) => {
      const run = await startTrainingRun(ctx.client, iso.config, {
        pipeline: served.pipeline,
        environment: 'staging',
        partition: uniquePartition(),
        assumeDataReady: true,
      });
      // Traffic as soon as the endpoint exists (it answers FAILED_PRECONDITION until a model serves).
      const endpoint = await eventually(async () => {
        const found = (await control.endpoints(iso.project)).find((e) => e.displayName === served.name);
        return found?.name;
      }, 90_000);
      load = startPredictionLoad({ client: vertex.predictions, endpoint, ratePerSecond: 20 });
      expect(await run.result()).toMatchObject({ status: 'succeeded' });
      const rollout = ctx.client.workflow.getHandle<typeof modelRollout>(
        rolloutId({ environment: 'staging', pipeline: served.pipeline }),
      );
      const result = await rollout.result();
      expect(result).toMatchObject({ outcome: 'done', endpoint });
      const candidate = Object.keys(result.split)[0]!;
      expect(result.split).toEqual({ [candidate]: 100 });
      expect((await getEndpoint(vertex, endpoint)).deployedModels!.map((d) => d.id)).toEqual([candidate]);
    },
    { project: iso, taskQueue: iso.project },
  );
});

describe('with worker processes', () => {
  let client: Client;
  let close: () => Promise<void>;
  beforeAll(async () => ({ client, close } = await connectTestClient()));
  afterAll(() => close());

  test('a worker SIGKILLed while DeployModel runs: the next worker resumes it, and one model is deployed', async () => {
    const { endpoint, old, v2, load: traffic } = await servingV1(vertex, served);
    load = traffic;
    // The rollout's DeployModel takes 40 s: the kill lands while its operation runs, and the next
    // attempt (after the 15 s heartbeat timeout and a new worker's start) still finds it running.
    await control.addDeployScript({ match: { project: iso.project }, deploy: { delayMs: 40_000 }, times: 1 });
    let worker: Service = await startWorkerProcess({ taskQueue: iso.project, configPath: iso.configPath });
    try {
      const handle = await rollOut(client, served, v2.versionId);
      await rolloutUntil(handle, (s) => s.phase === 'deploying');
      // Answered at once with its operation (the test's own deploy of version 1 is the first call).
      await eventually(async () =>
        (await control.calls({ method: 'DeployModel', project: iso.project })).length === 2 ? true : undefined,
      );
      // The kill must land after the server holds the operation's name: heartbeats leave the worker
      // asynchronously, and a kill before that leaves the next attempt nothing to resume.
      await eventually(async () => {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        return pending.some((a) => a.heartbeatDetails?.payloads?.length) ? true : undefined;
      });
      process.kill(worker.pid, 'SIGKILL');
      await worker.exited;
      worker = await startWorkerProcess({ taskQueue: iso.project, configPath: iso.configPath });
      const result = await handle.result();
      expect(result.outcome).toBe('done');
      const after = await getEndpoint(vertex, endpoint);
      expect(after.deployedModels!.filter((d) => d.modelVersionId === v2.versionId)).toHaveLength(1);
      expect(after.deployedModels!.map((d) => d.id)).not.toContain(old);
      // The second worker polled the first one's operation (heartbeated) instead of deploying again.
      const deploys = await control.calls({ method: 'DeployModel', project: iso.project });
      expect(deploys.map((c) => c.codeName)).toEqual(['OK', 'OK']); // version 1 by the test, version 2 once
    } finally {
      process.kill(worker.pid, 'SIGKILL');
      await worker.exited;
    }
  });
});
