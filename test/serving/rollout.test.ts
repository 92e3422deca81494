// A new champion rolled out to its Vertex Endpoint by canary steps, health read from Cloud
// Monitoring (the emulator's series of the predictions it really served, under load from the
// real PredictionServiceClient). Each test in a Vertex project of its own.
import { costOfHistory } from '../../client/cost';
import { loadPrices } from '../../config/prices';
import { getEndpoint } from '../helpers/endpoints';
import type { PredictionLoad } from '../helpers/prediction-load';
import {
  rollOut as startRollout,
  servedProject,
  servingV1 as servingSetup,
  type Served,
} from '../helpers/serving-steps';
import { withWorker, type WorkerContext } from '../helpers/temporal';
import { emulatorControl, vertexClients } from '../helpers/vertex';
import { expectWithinMicros } from '../helpers/micros';

jest.setTimeout(120_000);
const control = emulatorControl();
const vertex = vertexClients();
afterAll(() => vertex.close());

let served: Served;
let load: PredictionLoad | undefined;
beforeEach(() => (served = servedProject()));
afterEach(async () => {
  await load?.stop();
  load = undefined;
  await served.iso.cleanup();
});

async function servingV1() {
  const serving = await servingSetup(vertex, served);
  load = serving.load;
  return serving;
}
const rollOut = (ctx: WorkerContext, version: string) => startRollout(ctx.client, served, version);

const inProject = <R>(fn: (ctx: WorkerContext) => Promise<R>) =>
  withWorker(fn, { project: served.iso, taskQueue: served.iso.project });

test('a healthy canary reaches 100 %, takes the serving alias, and the old model is undeployed after its hold', async () => {
  await inProject(async (ctx) => {
    const { endpoint, old, v2 } = await servingV1();
    const handle = await rollOut(ctx, v2.versionId);
    const result = await handle.result();
    expect(result).toMatchObject({ outcome: 'done', version: v2.versionId, endpoint });
    // The candidate's node-hours while the rollout ran, at n1-standard-2's price (config/prices.yaml).
    expect(result.cost.nodeHours).toBeGreaterThan(0);
    expectWithinMicros(result.cost.usd!, result.cost.nodeHours * 0.10925);
    // ct cost reads the same from the run's history, beside its actions.
    const report = costOfHistory(handle.workflowId, (await handle.fetchHistory()).events ?? [], loadPrices());
    expect(report.vertex.jobs).toEqual([
      expect.objectContaining({ kind: 'deployedModel', job: endpoint, state: 'done', usd: result.cost.usd }),
    ]);
    expectWithinMicros(report.totalUsd, report.temporalUsd + result.cost.usd!);
    const after = await getEndpoint(vertex, endpoint);
    const candidate = Object.keys(result.split)[0]!;
    expect(result.split).toEqual({ [candidate]: 100 });
    expect(after.trafficSplit).toEqual({ [candidate]: 100 });
    expect(after.deployedModels!.map((d) => d.id)).toEqual([candidate]);
    expect(candidate).not.toBe(old);
    const [version] = await vertex.models.getModel({ name: `${v2.model}@${v2.versionId}` });
    expect(version.versionAliases).toContain('serving');
    // Both models served while the canary ran: the split was really stepped.
    expect(load!.result.byDeployedModel[candidate]).toBeGreaterThan(0);
    expect(load!.result.byDeployedModel[old]).toBeGreaterThan(0);
  });
});

test('an unhealthy canary (errors on the new deployed model only) is rolled back: the old split restored, the candidate undeployed', async () => {
  await inProject(async (ctx) => {
    const { endpoint, old, v2 } = await servingV1();
    await control.addPredictRule({
      match: { project: served.iso.project, modelVersionId: v2.versionId },
      script: { errorRate: 0.5 },
    });
    const result = await (await rollOut(ctx, v2.versionId)).result();
    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toMatch(/^step 50 %: error rate .* over 5 %/);
    const after = await getEndpoint(vertex, endpoint);
    expect(after.trafficSplit).toEqual({ [old]: 100 });
    expect(after.deployedModels!.map((d) => d.id)).toEqual([old]);
  });
});
