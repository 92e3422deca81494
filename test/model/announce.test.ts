// Model-ready announced only for the champion: two runs of one model overlap, and the first one's
// announcement comes late (its worker died; the retry a timeout later) — after the second promoted
// and announced a newer version. Found by the soak (docs/soak.md): churn's hourly runs left a
// manifest naming version 6 while the registry's champion was version 13.
import { randomUUID } from 'node:crypto';
import { createAnnounceActivity } from '../../activities/model/announce';
import { modelReadyGenerations, writeModelReadyFiles } from '../../activities/model/artifacts';
import { createModelRegistryActivities } from '../../activities/model/registry';
import { parseConfig } from '../../config/load-config';
import type { ModelReady } from '../../contracts';
import { createVertexClientFactory } from '../../infra/vertex/clients';
import { connectTestClient, testStorage } from '../helpers/temporal';
import { uniqueProject } from '../helpers/vertex';
import { testStack } from '../setup/test-stack';

const env = testStack();
const vertex = createVertexClientFactory({
  VERTEX_API_ENDPOINT: `${env.CT_TEST_VERTEX_HOST}:${env.CT_TEST_VERTEX_PORT}`,
});
const registry = createModelRegistryActivities({ vertex });
const storage = testStorage();
let temporal: Awaited<ReturnType<typeof connectTestClient>>;
beforeAll(async () => (temporal = await connectTestClient()));
afterAll(() => Promise.all([vertex.close(), temporal.close()]));

async function registered(project: string, partition: string) {
  return registry.registerCandidate({
    project,
    region: 'us-central1',
    modelId: 'churn',
    displayName: 'churn',
    servingImage: 'img',
    artifactUri: `gs://${env.CT_TEST_GCS_BUCKET}/root/${partition}/model/`,
    labels: {},
    runLabel: `run-${randomUUID().slice(0, 8)}`,
    metrics: { auc: 0.9 },
    partition,
  });
}

/** Moves the `champion` alias to the version, as a run's promotion does. */
const champion = (v: { model: string; versionId: string }) =>
  registry.promoteVersion({ region: 'us-central1', model: v.model, versionId: v.versionId, aliases: ['champion'] });

const manifestOf = (v: { model: string; versionId: string }, partition: string): ModelReady => ({
  environment: 'staging',
  pipeline: 'churn',
  segment: null,
  model: v.model,
  version: v.versionId,
  modelVersionName: `${v.model}@${v.versionId}`,
  aliases: ['candidate', 'champion'],
  metrics: { auc: 0.9 },
  partition,
  trainedAt: new Date().toISOString(),
});

async function read(uri: string): Promise<string> {
  const [, bucket, object] = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri)!;
  return (await storage.bucket(bucket!).file(object!).download())[0].toString();
}

test('a late announcement of a version that is no longer champion writes nothing and says why; the newer one stays', async () => {
  const project = uniqueProject();
  const announce = createAnnounceActivity({
    storage,
    temporal: temporal.client,
    config: parseConfig('{"version":1,"pipelines":{}}', 'none.json'),
    vertex,
  });
  const files = {
    manifestUri: `gs://${env.CT_TEST_GCS_BUCKET}/${project}/models/churn/manifest.json`,
    flagUri: `gs://${env.CT_TEST_GCS_BUCKET}/${project}/models/churn/_READY`,
  };
  // Run A (01h) registers and promotes version 1; run B (02h) then registers, promotes and announces version 2.
  const a = await registered(project, '2026-11-01T01');
  await champion(a);
  const b = await registered(project, '2026-11-01T02');
  await champion(b);
  expect(await announce({ manifest: manifestOf(b, '2026-11-01T02'), ...files })).toEqual({ consumersTold: 0 });

  // A's announcement, late: nothing written, nobody told, and the reason.
  expect(await announce({ manifest: manifestOf(a, '2026-11-01T01'), ...files })).toEqual({
    consumersTold: 0,
    superseded: `not announced: the champion is version ${b.versionId} now, not ${a.versionId}`,
  });
  expect(JSON.parse(await read(files.manifestUri))).toMatchObject({ version: b.versionId });
  expect(await read(files.flagUri)).toBe(`${b.model}@${b.versionId}\n`);
});

test('model-ready files are written only over the generation read before: a newer announcement in between wins', async () => {
  const project = uniqueProject();
  const files = {
    manifestUri: `gs://${env.CT_TEST_GCS_BUCKET}/${project}/models/churn/manifest.json`,
    flagUri: `gs://${env.CT_TEST_GCS_BUCKET}/${project}/models/churn/_READY`,
  };
  const v = { model: `projects/1/locations/us-central1/models/churn`, versionId: '1' };
  // The late one reads the generations (none yet); the newer one writes before it does.
  const stale = await modelReadyGenerations(storage, files);
  await writeModelReadyFiles(storage, { ...files, manifest: manifestOf({ ...v, versionId: '2' }, 'p2') });
  await expect(writeModelReadyFiles(storage, { ...files, manifest: manifestOf(v, 'p1') }, stale)).rejects.toThrow(
    /manifest\.json was written by another announcement since it was read/,
  );
  expect(JSON.parse(await read(files.manifestUri))).toMatchObject({ version: '2' });
  // Over what it read just now, it writes.
  await writeModelReadyFiles(
    storage,
    { ...files, manifest: manifestOf({ ...v, versionId: '3' }, 'p3') },
    await modelReadyGenerations(storage, files),
  );
  expect(await read(files.flagUri)).toBe(`${v.model}@3\n`);
});
