// EndpointService through the real @google-cloud/aiplatform client: endpoints, DeployModel and
// UndeployModel as long-running operations, and the traffic split with Vertex's rules (replaced
// wholesale, "0" for the model being deployed, summing to 100, no undeploy of a model with traffic).
import {
  createEndpoint,
  dedicated,
  deployModel,
  getEndpoint,
  undeployModel,
  uploadServingModel,
} from '../helpers/endpoints';
import { eventually } from '../helpers/eventually';
import { emulatorControl, parentOf, rpcError, uniqueProject, vertexClients } from '../helpers/vertex';

const clients = vertexClients();
const control = emulatorControl();

afterAll(async () => {
  await clients.close();
});

const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const FAILED_PRECONDITION = 9;
const RESOURCE_EXHAUSTED = 8;

/** A project with a model in its registry and an empty endpoint. */
async function servingProject() {
  const project = uniqueProject();
  const { model, versionId } = await uploadServingModel(clients, project);
  const endpoint = (await createEndpoint(clients, project)).name!;
  return { project, model, versionId, endpoint };
}

const splitOf = async (endpoint: string) => (await getEndpoint(clients, endpoint)).trafficSplit ?? {};

test('CreateEndpoint is an operation whose Endpoint carries the project number; Get and List return it', async () => {
  const project = uniqueProject();
  const [op] = await clients.endpoints.createEndpoint({
    parent: parentOf(project),
    endpoint: { displayName: 'engagement', description: 'online', labels: { team: 'ct' } },
  });
  expect(op.name).toMatch(/^projects\/\d{12}\/locations\/us-central1\/endpoints\/\d{19}\/operations\/\d{19}$/);
  const [endpoint] = await op.promise();
  expect(endpoint.name).toMatch(/^projects\/\d{12}\/locations\/us-central1\/endpoints\/\d{19}$/);
  expect(endpoint).toMatchObject({ displayName: 'engagement', description: 'online', labels: { team: 'ct' } });
  expect(endpoint.deployedModels ?? []).toEqual([]);

  const got = await getEndpoint(clients, endpoint.name!);
  expect(got).toMatchObject({ name: endpoint.name, displayName: 'engagement' });
  const [byId] = await clients.endpoints.createEndpoint({
    parent: parentOf(project),
    endpoint: { displayName: 'named' },
    endpointId: 'engagement-canary',
  });
  expect((await byId.promise())[0].name).toMatch(/\/endpoints\/engagement-canary$/);
  const duplicate = await rpcError(
    clients.endpoints.createEndpoint({
      parent: parentOf(project),
      endpoint: { displayName: 'again' },
      endpointId: 'engagement-canary',
    }),
  );
  expect(duplicate.code).toBe(6);
  expect((await rpcError(clients.endpoints.getEndpoint({ name: `${parentOf(project)}/endpoints/123` }))).code).toBe(
    NOT_FOUND,
  );
});

test('ListEndpoints filters by display_name and labels and pages', async () => {
  const project = uniqueProject();
  for (let i = 0; i < 3; i++) await createEndpoint(clients, project, { displayName: `ep-${i}`, labels: { n: `${i}` } });
  await createEndpoint(clients, project, { displayName: 'ep-1', labels: { n: 'x' } });
  const [byName] = await clients.endpoints.listEndpoints({ parent: parentOf(project), filter: 'display_name="ep-1"' });
  expect(byName.map((e) => e.labels!.n).sort()).toEqual(['1', 'x']);
  const [byLabel] = await clients.endpoints.listEndpoints({ parent: parentOf(project), filter: 'labels.n="2"' });
  expect(byLabel.map((e) => e.displayName)).toEqual(['ep-2']);
  const [, , page] = await clients.endpoints.listEndpoints(
    { parent: parentOf(project), pageSize: 3 },
    { autoPaginate: false },
  );
  expect(page?.endpoints).toHaveLength(3);
  expect(page?.nextPageToken).not.toBe('');
  const [all] = await clients.endpoints.listEndpoints({ parent: parentOf(project), pageSize: 3 });
  expect(all).toHaveLength(4);
  const bad = await rpcError(clients.endpoints.listEndpoints({ parent: parentOf(project), filter: 'nope="1"' }));
  expect(bad.code).toBe(INVALID_ARGUMENT);
});

test('DeployModel is an operation that completes later with a numeric DeployedModel id, resources and version', async () => {
  const { project, model, endpoint } = await servingProject();
  const v2 = await uploadServingModel(clients, project, { parentModel: model });
  const [op] = await clients.endpoints.deployModel({
    endpoint,
    deployedModel: { model: `${model}@${v2.versionId}`, displayName: 'canary', dedicatedResources: dedicated },
    trafficSplit: { '0': 100 },
  });
  expect(op.done).toBe(false);
  expect((await getEndpoint(clients, endpoint)).deployedModels ?? []).toEqual([]);
  const [resp] = await op.promise();
  const deployed = resp.deployedModel!;
  expect(deployed.id).toMatch(/^\d+$/);
  expect(deployed).toMatchObject({ model, modelVersionId: '2', displayName: 'canary' });
  expect(deployed.dedicatedResources).toMatchObject({
    machineSpec: { machineType: 'n1-standard-2' },
    minReplicaCount: 1,
    maxReplicaCount: 2,
  });
  const got = await getEndpoint(clients, endpoint);
  expect(got.deployedModels!.map((d) => d.id)).toEqual([deployed.id]);
  expect(got.trafficSplit).toEqual({ [deployed.id!]: 100 });
  expect((await control.endpoints(project))[0]!.deployedModels[0]).toMatchObject({
    id: deployed.id,
    modelVersionId: '2',
  });
});

test('the traffic split in DeployModel replaces the whole split; "0" is the model being deployed; none leaves it', async () => {
  const { model, endpoint } = await servingProject();
  const a = await deployModel(clients, endpoint, model, { '0': 100 });
  const b = await deployModel(clients, endpoint, model, { '0': 10, [a.id!]: 90 });
  expect(await splitOf(endpoint)).toEqual({ [a.id!]: 90, [b.id!]: 10 });
  // No split: the new DeployedModel gets no traffic and the split stays as it was.
  const c = await deployModel(clients, endpoint, model);
  expect(await splitOf(endpoint)).toEqual({ [a.id!]: 90, [b.id!]: 10 });
  // Wholesale: a split naming only the new model takes every other model's traffic away.
  const d = await deployModel(clients, endpoint, model, { '0': 100 });
  expect(await splitOf(endpoint)).toEqual({ [d.id!]: 100 });
  expect((await getEndpoint(clients, endpoint)).deployedModels!.map((x) => x.id).sort()).toEqual(
    [a.id, b.id, c.id, d.id].sort(),
  );
});

test('a split that does not sum to 100, or names an unknown DeployedModel, is refused', async () => {
  const { model, endpoint } = await servingProject();
  const sum = await rpcError(
    clients.endpoints.deployModel({
      endpoint,
      deployedModel: { model, dedicatedResources: dedicated },
      trafficSplit: { '0': 60 },
    }),
  );
  expect(sum.code).toBe(INVALID_ARGUMENT);
  expect(sum.details).toContain('needs to be 100');
  const a = await deployModel(clients, endpoint, model, { '0': 100 });
  const unknown = await rpcError(
    clients.endpoints.updateEndpoint({
      endpoint: { name: endpoint, trafficSplit: { [a.id!]: 50, '999': 50 } },
      updateMask: { paths: ['traffic_split'] },
    }),
  );
  expect(unknown.code).toBe(INVALID_ARGUMENT);
  expect(unknown.details).toContain('"999" is not a DeployedModel');
  const over = await rpcError(
    clients.endpoints.updateEndpoint({
      endpoint: { name: endpoint, trafficSplit: { [a.id!]: 110 } },
      updateMask: { paths: ['traffic_split'] },
    }),
  );
  expect(over.code).toBe(INVALID_ARGUMENT);
  expect(await splitOf(endpoint)).toEqual({ [a.id!]: 100 });
});

test('UpdateEndpoint changes the split, display name and labels by update mask; an empty split is allowed', async () => {
  const { model, endpoint } = await servingProject();
  const a = await deployModel(clients, endpoint, model, { '0': 100 });
  const b = await deployModel(clients, endpoint, model);
  const [updated] = await clients.endpoints.updateEndpoint({
    endpoint: { name: endpoint, trafficSplit: { [a.id!]: 50, [b.id!]: 50 }, displayName: 'ignored' },
    updateMask: { paths: ['traffic_split'] },
  });
  expect(updated.trafficSplit).toEqual({ [a.id!]: 50, [b.id!]: 50 });
  expect(updated.displayName).toBe('engagement');
  await clients.endpoints.updateEndpoint({
    endpoint: { name: endpoint, displayName: 'renamed', labels: { stage: 'canary' } },
    updateMask: { paths: ['display_name', 'labels'] },
  });
  expect(await getEndpoint(clients, endpoint)).toMatchObject({ displayName: 'renamed', labels: { stage: 'canary' } });
  await clients.endpoints.updateEndpoint({ endpoint: { name: endpoint }, updateMask: { paths: ['traffic_split'] } });
  expect(await splitOf(endpoint)).toEqual({});
  const badMask = await rpcError(
    clients.endpoints.updateEndpoint({ endpoint: { name: endpoint }, updateMask: { paths: ['deployed_models'] } }),
  );
  expect(badMask.code).toBe(INVALID_ARGUMENT);
});

test('UndeployModel is refused while the model has traffic, allowed when its own split takes it away', async () => {
  const { model, endpoint } = await servingProject();
  const a = await deployModel(clients, endpoint, model, { '0': 100 });
  const b = await deployModel(clients, endpoint, model, { '0': 20, [a.id!]: 80 });
  const refused = await rpcError(clients.endpoints.undeployModel({ endpoint, deployedModelId: b.id }));
  expect(refused.code).toBe(FAILED_PRECONDITION);
  expect(refused.details).toContain('20%');
  expect((await getEndpoint(clients, endpoint)).deployedModels).toHaveLength(2);

  await undeployModel(clients, endpoint, b.id!, { [a.id!]: 100 });
  const after = await getEndpoint(clients, endpoint);
  expect(after.deployedModels!.map((d) => d.id)).toEqual([a.id]);
  expect(after.trafficSplit).toEqual({ [a.id!]: 100 });
  const gone = await rpcError(clients.endpoints.undeployModel({ endpoint, deployedModelId: b.id }));
  expect(gone.code).toBe(NOT_FOUND);
});

test('a model without traffic undeploys as it is; undeploying the last model leaves the split empty', async () => {
  const { model, endpoint } = await servingProject();
  const a = await deployModel(clients, endpoint, model, { '0': 100 });
  const idle = await deployModel(clients, endpoint, model);
  await undeployModel(clients, endpoint, idle.id!);
  expect(await splitOf(endpoint)).toEqual({ [a.id!]: 100 });
  await undeployModel(clients, endpoint, a.id!);
  const after = await getEndpoint(clients, endpoint);
  expect(after.deployedModels ?? []).toEqual([]);
  expect(after.trafficSplit ?? {}).toEqual({});
});

test('DeleteEndpoint is refused while a model is deployed, then deletes the endpoint', async () => {
  const { model, endpoint } = await servingProject();
  const a = await deployModel(clients, endpoint, model, { '0': 100 });
  const refused = await rpcError(clients.endpoints.deleteEndpoint({ name: endpoint }));
  expect(refused.code).toBe(FAILED_PRECONDITION);
  expect(await getEndpoint(clients, endpoint)).toMatchObject({ name: endpoint });
  await undeployModel(clients, endpoint, a.id!);
  const [op] = await clients.endpoints.deleteEndpoint({ name: endpoint });
  await op.promise();
  expect((await rpcError(clients.endpoints.getEndpoint({ name: endpoint }))).code).toBe(NOT_FOUND);
});

test('deploying a model the registry does not hold is refused, and nothing is deployed', async () => {
  const { project, endpoint } = await servingProject();
  const missing = await rpcError(
    clients.endpoints.deployModel({
      endpoint,
      deployedModel: { model: `${parentOf(project)}/models/404`, dedicatedResources: dedicated },
      trafficSplit: { '0': 100 },
    }),
  );
  expect(missing.code).toBe(NOT_FOUND);
  const noVersion = await rpcError(
    clients.endpoints.deployModel({
      endpoint,
      deployedModel: {
        model: `${(await uploadServingModel(clients, project)).model}@7`,
        dedicatedResources: dedicated,
      },
    }),
  );
  expect(noVersion.code).toBe(NOT_FOUND);
  expect((await getEndpoint(clients, endpoint)).deployedModels ?? []).toEqual([]);
});

test('a deploy script sets how long the operation runs, or makes it fail without deploying', async () => {
  const { project, model, endpoint } = await servingProject();
  await control.addDeployScript({ match: { project }, deploy: { delayMs: 1_500 }, times: 1 });
  const t0 = Date.now();
  await deployModel(clients, endpoint, model, { '0': 100 });
  expect(Date.now() - t0).toBeGreaterThanOrEqual(1_400);

  await control.addDeployScript({ match: { project }, deploy: { fail: { code: 8, message: 'Out of n1 CPUs' } } });
  const failed = await rpcError(deployModel(clients, endpoint, model, { '0': 100 }));
  expect(failed).toMatchObject({ code: RESOURCE_EXHAUSTED });
  expect(failed.details).toContain('Out of n1 CPUs');
  expect((await getEndpoint(clients, endpoint)).deployedModels).toHaveLength(1);
  await control.clearRules(project);
  await deployModel(clients, endpoint, model);
  expect((await getEndpoint(clients, endpoint)).deployedModels).toHaveLength(2);
});

test('faults and the call log apply to endpoint methods by name', async () => {
  const { project, model, endpoint } = await servingProject();
  await control.addFault({ method: 'DeployModel', project, code: 'UNAVAILABLE', times: 1 });
  const fault = await rpcError(deployModel(clients, endpoint, model, { '0': 100 }));
  expect(fault.code).toBe(14);
  await deployModel(clients, endpoint, model, { '0': 100 });
  await eventually(async () => {
    const calls = await control.calls({ project, method: 'DeployModel' });
    return calls.map((c) => c.codeName).join(',') === 'UNAVAILABLE,OK' ? true : undefined;
  });
});
