// The Model Registry adapters through the real ModelService client against the emulator.
import { randomUUID } from 'node:crypto';
import { createVertexClientFactory } from '../../infra/vertex/clients';
import { createModelRegistryActivities, type RegisterRequest } from '../../activities/model/registry';
import { uniqueProject, vertexClients } from '../helpers/vertex';
import { testStack } from '../setup/test-stack';

const env = testStack();
const vertex = createVertexClientFactory({
  VERTEX_API_ENDPOINT: `${env.CT_TEST_VERTEX_HOST}:${env.CT_TEST_VERTEX_PORT}`,
});
const registry = createModelRegistryActivities({ vertex });
const clients = vertexClients();
afterAll(() => Promise.all([vertex.close(), clients.close()]));

function request(project: string, run: string, metrics: Record<string, number>): RegisterRequest {
  return {
    project,
    region: 'us-central1',
    modelId: 'sns-engagement-jp-instagram',
    displayName: 'sns-engagement jp-instagram',
    servingImage: 'us-docker.pkg.dev/vertex-ai/prediction/xgboost-cpu.1-7:latest',
    artifactUri: `gs://ct-test-bucket/root/${run}/model/`,
    labels: { 'ct-pipeline': 'sns-engagement' },
    runLabel: run,
    metrics,
    partition: '2026-11-21',
  };
}

test('the first run creates the model; a retried registration reuses its version; champion moves on promotion', async () => {
  const project = uniqueProject();
  const ref = { project, region: 'us-central1', modelId: 'sns-engagement-jp-instagram' };
  expect(await registry.findChampion(ref)).toBeNull();

  const runA = `run-${randomUUID().slice(0, 8)}`;
  const first = await registry.registerCandidate(request(project, runA, { auc: 0.9 }));
  expect(first).toMatchObject({ versionId: '1', reused: false });
  expect(first.model).toMatch(/^projects\/\d{12}\/locations\/us-central1\/models\/sns-engagement-jp-instagram$/);
  // A retry of the same run (e.g. after a worker died mid-upload) makes no second version.
  expect(await registry.registerCandidate(request(project, runA, { auc: 0.9 }))).toEqual({ ...first, reused: true });

  await registry.promoteVersion({ region: 'us-central1', model: first.model, versionId: '1', aliases: ['champion'] });
  expect(await registry.findChampion(ref)).toMatchObject({
    model: first.model,
    version: '1',
    metrics: { auc: 0.9 },
    aliases: ['default', 'candidate', 'champion'],
  });

  const runB = `run-${randomUUID().slice(0, 8)}`;
  const second = await registry.registerCandidate(request(project, runB, { auc: 0.93 }));
  expect(second).toMatchObject({ model: first.model, versionId: '2', reused: false });
  await registry.promoteVersion({ region: 'us-central1', model: second.model, versionId: '2', aliases: ['champion'] });

  const [versions] = await clients.models.listModelVersions({ name: first.model });
  expect(versions.map((v) => [v.versionId, [...(v.versionAliases ?? [])].sort()])).toEqual([
    ['1', ['default']],
    ['2', ['candidate', 'champion']],
  ]);
  expect((await registry.findChampion(ref))?.metrics).toEqual({ auc: 0.93 });
});
