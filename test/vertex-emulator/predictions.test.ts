// PredictionService.Predict through the real @google-cloud/aiplatform client: requests spread over
// the deployed models exactly as the endpoint's traffic split says, and each deployed model answers
// as the control API scripted it (predictions, an error rate with its code, added latency).
import { createEndpoint, deployModel, uploadServingModel } from '../helpers/endpoints';
import { startPredictionLoad } from '../helpers/prediction-load';
import { emulatorControl, parentOf, rpcError, uniqueProject, value, vertexClients } from '../helpers/vertex';
import { helpers } from '@google-cloud/aiplatform';

const clients = vertexClients();
const control = emulatorControl();

afterAll(async () => {
  await clients.close();
});

const NOT_FOUND = 5;
const FAILED_PRECONDITION = 9;
const UNAVAILABLE = 14;

/** An endpoint with two versions of one model deployed, `canary` taking `canaryPercent`. */
async function canaryEndpoint(canaryPercent: number) {
  const project = uniqueProject();
  const { model } = await uploadServingModel(clients, project);
  await uploadServingModel(clients, project, { parentModel: model });
  const endpoint = (await createEndpoint(clients, project)).name!;
  const stable = await deployModel(clients, endpoint, `${model}@1`, { '0': 100 });
  const canary = await deployModel(clients, endpoint, `${model}@2`, {
    '0': canaryPercent,
    [stable.id!]: 100 - canaryPercent,
  });
  return { project, model, endpoint, stable: stable.id!, canary: canary.id! };
}

const predictOnce = (endpoint: string, instances: unknown[] = [{ x: 1 }]) =>
  clients.predictions.predict({ endpoint, instances: instances.map(value) });

test('requests follow the traffic split exactly: 100 requests at 10/90 are 10 and 90', async () => {
  const { project, endpoint, stable, canary } = await canaryEndpoint(10);
  const load = startPredictionLoad({ client: clients.predictions, endpoint, count: 100, ratePerSecond: 200 });
  const result = await load.done;
  expect(result.ok).toBe(100);
  expect(result.byDeployedModel).toEqual({ [canary]: 10, [stable]: 90 });
  const log = await control.predictions({ project });
  expect(log).toHaveLength(100);
  expect(log.filter((p) => p.deployedModelId === canary)).toHaveLength(10);
  expect(log[0]).toMatchObject({ region: 'us-central1', instanceCount: 1, errorCode: null });

  // A new split takes effect from the next request.
  await clients.endpoints.updateEndpoint({
    endpoint: { name: endpoint, trafficSplit: { [canary]: 50, [stable]: 50 } },
    updateMask: { paths: ['traffic_split'] },
  });
  const half = await startPredictionLoad({ client: clients.predictions, endpoint, count: 40, ratePerSecond: 200 }).done;
  expect(half.byDeployedModel).toEqual({ [canary]: 20, [stable]: 20 });
});

test('the response names the deployed model, its model and version, and echoes instances by default', async () => {
  const { model, endpoint, stable } = await canaryEndpoint(0);
  const [res] = await predictOnce(endpoint, [{ x: 1 }, { x: 2 }]);
  expect(res).toMatchObject({ deployedModelId: stable, model, modelVersionId: '1' });
  expect(res.predictions!.map((p) => helpers.fromValue(p as never))).toEqual([{ x: 1 }, { x: 2 }]);
});

test('an endpoint whose split is empty answers FAILED_PRECONDITION; an unknown one NOT_FOUND', async () => {
  const project = uniqueProject();
  const { model } = await uploadServingModel(clients, project);
  const endpoint = (await createEndpoint(clients, project)).name!;
  const none = await rpcError(predictOnce(endpoint));
  expect(none.code).toBe(FAILED_PRECONDITION);
  expect(none.details).toContain('no DeployedModel that receives traffic');
  await deployModel(clients, endpoint, model); // deployed, but the split was left empty
  expect((await rpcError(predictOnce(endpoint))).code).toBe(FAILED_PRECONDITION);
  expect((await rpcError(predictOnce(`${parentOf(project)}/endpoints/1`))).code).toBe(NOT_FOUND);
  expect(await control.predictions({ project })).toEqual([]);
});

test('scripted predictions, error rate and code apply to the deployed model the rule matches only', async () => {
  const { project, endpoint, stable, canary } = await canaryEndpoint(50);
  await control.addPredictRule({
    match: { project, deployedModelId: canary },
    script: { errorRate: 0.2, errorCode: 'UNAVAILABLE' },
  });
  await control.addPredictRule({
    match: { project, deployedModelId: stable },
    script: { predictions: [{ score: 0.9 }] },
  });
  const result = await startPredictionLoad({ client: clients.predictions, endpoint, count: 100, ratePerSecond: 200 })
    .done;
  // 50 reach the canary; exactly a fifth of them fail, spread evenly.
  expect(result.errors).toEqual({ [UNAVAILABLE]: 10 });
  expect(result.byDeployedModel).toEqual({ [canary]: 40, [stable]: 50 });
  const log = await control.predictions({ project });
  expect(log.filter((p) => p.errorCode === 'UNAVAILABLE').every((p) => p.deployedModelId === canary)).toBe(true);

  let res;
  do [res] = await predictOnce(endpoint);
  while (res.deployedModelId !== stable);
  expect(res.predictions!.map((p) => helpers.fromValue(p as never))).toEqual([{ score: 0.9 }]);

  // A newer rule replaces the older one; clearing the project's rules returns to the defaults.
  await control.addPredictRule({ match: { project, model: res.model! }, script: { errorRate: 1 } });
  expect((await rpcError(predictOnce(endpoint))).code).toBe(13);
  await control.clearRules(project);
  const healthy = await startPredictionLoad({ client: clients.predictions, endpoint, count: 20, ratePerSecond: 200 })
    .done;
  expect(healthy.ok).toBe(20);
});

test('scripted latency delays the deployed model that has it, and the log records it', async () => {
  const { project, endpoint, canary } = await canaryEndpoint(50);
  await control.addPredictRule({ match: { project, deployedModelId: canary }, script: { latencyMs: 300 } });
  for (let i = 0; i < 4; i++) {
    const t0 = Date.now();
    const [res] = await predictOnce(endpoint);
    const took = Date.now() - t0;
    if (res.deployedModelId === canary) expect(took).toBeGreaterThanOrEqual(290);
  }
  const log = await control.predictions({ project });
  expect(log.filter((p) => p.deployedModelId === canary).every((p) => p.latencyMs >= 300)).toBe(true);
  expect(log.filter((p) => p.deployedModelId !== canary).every((p) => p.latencyMs < 300)).toBe(true);
});

test('the load generator runs in the background until stopped', async () => {
  const { endpoint } = await canaryEndpoint(10);
  const load = startPredictionLoad({ client: clients.predictions, endpoint, ratePerSecond: 50 });
  await new Promise((r) => setTimeout(r, 500));
  const result = await load.stop();
  expect(result.sent).toBeGreaterThan(5);
  expect(result.ok).toBe(result.sent);
  const after = load.result.sent;
  await new Promise((r) => setTimeout(r, 200));
  expect(load.result.sent).toBe(after);
});
