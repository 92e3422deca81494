// ModelService through the real @google-cloud/aiplatform client: UploadModel as a long-running
// operation, versions under a parent model, aliases (which live on one version at a time),
// validation, and names that carry the project NUMBER like real Vertex's do.
import type { protos } from '@google-cloud/aiplatform';
import { emulatorControl, parentOf, rpcError, uniqueProject, vertexClients } from '../helpers/vertex';

type IModel = protos.google.cloud.aiplatform.v1.IModel;

const clients = vertexClients();
const { models } = clients;
const control = emulatorControl();

afterAll(async () => {
  await clients.close();
});

const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const MODEL_NAME = /^projects\/\d{12}\/locations\/us-central1\/models\/\d{19}$/;

function modelIn(overrides: Partial<IModel> = {}): IModel {
  return {
    displayName: 'churn-model',
    artifactUri: 'gs://ct-test-bucket/models/churn',
    containerSpec: { imageUri: 'us-docker.pkg.dev/p/r/server:1' },
    labels: { team: 'ct' },
    ...overrides,
  };
}

/** Uploads through the LRO as a caller would: start it, then wait for its response. */
async function upload(project: string, opts: { parentModel?: string; versionAliases?: string[] } = {}) {
  const [op] = await models.uploadModel({
    parent: parentOf(project),
    parentModel: opts.parentModel,
    model: modelIn({ versionAliases: opts.versionAliases }),
  });
  const [resp] = await op.promise();
  return { op, model: resp.model!, versionId: resp.modelVersionId! };
}

const getModel = async (name: string) => (await models.getModel({ name }))[0];
const aliasesOf = async (name: string) => (await getModel(name)).versionAliases ?? [];

test('UploadModel is an LRO whose response names the model (no @) and version 1, aliased default', async () => {
  const project = uniqueProject();
  const { op, model, versionId } = await upload(project);
  expect(op.name).toMatch(/^projects\/\d{12}\/locations\/us-central1\/models\/\d{19}\/operations\/\d{19}$/);
  expect(model).toMatch(MODEL_NAME);
  expect(model).not.toContain('@');
  expect(versionId).toBe('1');

  // No suffix means the version aliased "default", which the first version gets.
  const got = await getModel(model);
  expect(got).toMatchObject({ name: model, versionId: '1', displayName: 'churn-model', labels: { team: 'ct' } });
  expect(got.versionAliases).toEqual(['default']);
  expect(got.containerSpec?.imageUri).toBe('us-docker.pkg.dev/p/r/server:1');
});

test('the client polled GetOperation, which the call log shows for this operation', async () => {
  const project = uniqueProject();
  const { op } = await upload(project);
  // Other tests poll their own operations on the same emulator: keep only this one's calls.
  const polls = (await control.calls({ method: 'GetOperation' })).filter(
    (c) => (c.request as { name?: string }).name === op.name,
  );
  expect(polls.length).toBeGreaterThanOrEqual(1);
  expect(polls.at(-1)!.code).toBe(0);
});

test('names carry the project number; GetModel accepts the id form and the number form', async () => {
  const project = uniqueProject();
  const { model } = await upload(project);
  const [, number, modelId] = /^projects\/(\d{12})\/locations\/[^/]+\/models\/(\d+)$/.exec(model)!;
  expect(number).not.toBe(project);

  const byId = await getModel(`${parentOf(project)}/models/${modelId}`);
  const byNumber = await getModel(`projects/${number}/locations/us-central1/models/${modelId}`);
  expect(byId.name).toBe(model);
  expect(byNumber.name).toBe(model);
  expect(byId.versionId).toBe('1');
});

test('a parentModel upload adds version 2; ListModelVersions lists both with @version names', async () => {
  const project = uniqueProject();
  const v1 = await upload(project);
  const v2 = await upload(project, { parentModel: v1.model });
  expect(v2.model).toBe(v1.model);
  expect(v2.versionId).toBe('2');

  const [versions] = await models.listModelVersions({ name: v1.model });
  expect(versions.map((v) => v.versionId)).toEqual(['1', '2']);
  expect(versions.map((v) => v.name)).toEqual([`${v1.model}@1`, `${v1.model}@2`]);
  // "default" stays on the first version: a new version does not take it.
  expect(versions[0]!.versionAliases).toEqual(['default']);
  expect(versions[1]!.versionAliases ?? []).toEqual([]);
});

test('an alias given to a newer upload moves off the older version', async () => {
  const project = uniqueProject();
  const v1 = await upload(project, { versionAliases: ['candidate'] });
  expect(await aliasesOf(`${v1.model}@1`)).toEqual(['default', 'candidate']);

  await upload(project, { parentModel: v1.model, versionAliases: ['candidate'] });
  expect((await getModel(`${v1.model}@candidate`)).versionId).toBe('2');
  expect(await aliasesOf(`${v1.model}@1`)).toEqual(['default']);
});

test('MergeVersionAliases moves, removes and refuses aliases', async () => {
  const project = uniqueProject();
  const { model } = await upload(project);
  await upload(project, { parentModel: model, versionAliases: ['candidate'] });

  const [merged] = await models.mergeVersionAliases({ name: `${model}@1`, versionAliases: ['champion'] });
  expect(merged.versionAliases).toEqual(['default', 'champion']);
  expect((await getModel(`${model}@champion`)).versionId).toBe('1');

  // Giving champion to version 2 takes it from version 1.
  await models.mergeVersionAliases({ name: `${model}@2`, versionAliases: ['champion'] });
  expect((await getModel(`${model}@champion`)).versionId).toBe('2');
  expect(await aliasesOf(`${model}@1`)).toEqual(['default']);

  // A leading "-" removes an alias; the version then no longer answers to it.
  const [removed] = await models.mergeVersionAliases({ name: `${model}@2`, versionAliases: ['-candidate'] });
  expect(removed.versionAliases).toEqual(['champion']);
  expect((await rpcError(models.getModel({ name: `${model}@candidate` }))).code).toBe(NOT_FOUND);

  // "default" can only move, never be removed.
  const noDefault = await rpcError(models.mergeVersionAliases({ name: `${model}@1`, versionAliases: ['-default'] }));
  expect(noDefault.code).toBe(INVALID_ARGUMENT);
  expect(noDefault.details).toContain('version_aliases');
  expect(await aliasesOf(`${model}@1`)).toEqual(['default']);

  // Merge needs an explicit version id: neither a bare model nor an alias will do.
  for (const name of [model, `${model}@champion`]) {
    const e = await rpcError(models.mergeVersionAliases({ name, versionAliases: ['other'] }));
    expect(e.code).toBe(INVALID_ARGUMENT);
    expect(e.details).toContain('name');
  }
});

test('the control API keeps every move of an alias: which version held champion when', async () => {
  const project = uniqueProject();
  const { model } = await upload(project, { versionAliases: ['candidate'] });
  await models.mergeVersionAliases({ name: `${model}@1`, versionAliases: ['champion'] });
  await upload(project, { parentModel: model, versionAliases: ['candidate'] });
  await models.mergeVersionAliases({ name: `${model}@2`, versionAliases: ['champion'] });
  await models.mergeVersionAliases({ name: `${model}@2`, versionAliases: ['-champion'] });

  const [view] = await control.models(project);
  const moves = view!.aliasHistory.map(({ alias, versionId }) => `${alias}→${versionId ?? 'none'}`);
  expect(moves).toEqual(['default→1', 'candidate→1', 'champion→1', 'candidate→2', 'champion→2', 'champion→none']);
  const times = view!.aliasHistory.map((c) => Date.parse(c.at));
  expect(times).toEqual([...times].sort((a, b) => a - b));
  expect(view!.versions.map((v) => v.versionId)).toEqual(['1', '2']);
});

test('GetModel resolves @version and @alias; unknown ones are NOT_FOUND', async () => {
  const project = uniqueProject();
  const { model } = await upload(project);
  await upload(project, { parentModel: model, versionAliases: ['candidate'] });

  expect((await getModel(`${model}@2`)).versionId).toBe('2');
  expect((await getModel(`${model}@1`)).versionId).toBe('1');
  expect((await getModel(`${model}@candidate`)).versionId).toBe('2');
  expect((await getModel(`${model}@default`)).versionId).toBe('1');
  for (const name of [`${model}@3`, `${model}@nosuch`, `${parentOf(project)}/models/1234567890123456789`]) {
    expect((await rpcError(models.getModel({ name }))).code).toBe(NOT_FOUND);
  }
});

describe('invalid uploads are refused before any operation starts', () => {
  test.each([
    ['missing displayName', modelIn({ displayName: undefined }), 'model.display_name'],
    ['missing container image', modelIn({ containerSpec: {} }), 'model.container_spec.image_uri'],
    ['a label key with capitals', modelIn({ labels: { Team: 'ct' } }), 'model.labels'],
    ['an alias that is not an alias', modelIn({ versionAliases: ['Not_An_Alias'] }), 'model.version_aliases'],
    ['a numeric alias', modelIn({ versionAliases: ['12'] }), 'model.version_aliases'],
  ])('%s → INVALID_ARGUMENT naming the field', async (_case, model, field) => {
    const project = uniqueProject();
    const e = await rpcError(models.uploadModel({ parent: parentOf(project), model }));
    expect(e.code).toBe(INVALID_ARGUMENT);
    expect(e.details).toContain(`Field: ${field}`);
  });

  test('a parentModel that does not exist → NOT_FOUND', async () => {
    const project = uniqueProject();
    const parentModel = `${parentOf(project)}/models/1234567890123456789`;
    const e = await rpcError(models.uploadModel({ parent: parentOf(project), parentModel, model: modelIn() }));
    expect(e.code).toBe(NOT_FOUND);
    expect(e.details).toContain('1234567890123456789');
  });
});

test('ListModelVersions filters by label (how a retried upload finds the version it made)', async () => {
  const parent = parentOf(uniqueProject());
  const upload = async (labels: Record<string, string>, parentModel?: string) => {
    const [op] = await clients.models.uploadModel({
      parent,
      parentModel,
      model: { displayName: 'labelled', containerSpec: { imageUri: 'img' }, labels },
    });
    return (await op.promise())[0];
  };
  const first = await upload({ 'ct-run': 'run-a' });
  await upload({ 'ct-run': 'run-b' }, first.model!);
  const [byRun] = await clients.models.listModelVersions({ name: first.model, filter: 'labels.ct-run="run-b"' });
  expect(byRun.map((m) => m.versionId)).toEqual(['2']);
  const [all] = await clients.models.listModelVersions({ name: first.model, filter: 'labels.ct-run:*' });
  expect(all).toHaveLength(2);
  const bad = await rpcError(clients.models.listModelVersions({ name: first.model, filter: 'display_name="x"' }));
  expect(bad.code).toBe(3);
});
