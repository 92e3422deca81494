// PipelineService through the real @google-cloud/aiplatform client against the emulator, with the
// compiled KFP fixture (scripts/kfp/compile.sh makes it with the kfp SDK).
import type { protos } from '@google-cloud/aiplatform';
import { testStorage } from '../helpers/temporal';
import {
  emulatorControl,
  kfpSpecStruct,
  parentOf,
  rpcError,
  uniqueProject,
  value,
  vertexClients,
  waitForState,
} from '../helpers/vertex';
import { testStack } from '../setup/test-stack';

type IPipelineJob = protos.google.cloud.aiplatform.v1.IPipelineJob;

const clients = vertexClients();
const control = emulatorControl();
afterAll(() => clients.close());

const bucket = () => testStack().CT_TEST_GCS_BUCKET;

function pipelineJob(
  overrides: Partial<IPipelineJob> = {},
  params: Record<string, unknown> = { partition: '2026-11-21' },
): IPipelineJob {
  return {
    displayName: 'ct-training',
    labels: { pipeline: 'ct-training', env: 'staging' },
    pipelineSpec: kfpSpecStruct(),
    runtimeConfig: {
      gcsOutputDirectory: `gs://${bucket()}/pipeline-root`,
      parameterValues: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, value(v)])),
    },
    ...overrides,
  };
}

const get = (name: string) => clients.pipelines.getPipelineJob({ name }).then(([j]) => j);

test('a job goes QUEUED → RUNNING → SUCCEEDED with its times, and writes its outputs to GCS', async () => {
  const project = uniqueProject();
  const [created] = await clients.pipelines.createPipelineJob({
    parent: parentOf(project),
    pipelineJobId: 'train-jp-2026-11-21',
    pipelineJob: pipelineJob(),
  });
  // Vertex names carry the project number even though we sent the project id.
  expect(created.name).toMatch(/^projects\/\d{12}\/locations\/us-central1\/pipelineJobs\/train-jp-2026-11-21$/);
  expect(created.state).toBe('PIPELINE_STATE_QUEUED');
  expect(created.startTime).toBeFalsy();

  await waitForState(() => get(created.name!), ['PIPELINE_STATE_RUNNING']);
  const done = await waitForState(() => get(created.name!), ['PIPELINE_STATE_SUCCEEDED']);
  const t = (ts: protos.google.protobuf.ITimestamp | null | undefined) =>
    Number(ts?.seconds) * 1000 + Number(ts?.nanos ?? 0) / 1e6;
  expect(t(done.createTime)).toBeLessThanOrEqual(t(done.startTime));
  expect(t(done.startTime)).toBeLessThan(t(done.endTime));
  expect(done.error).toBeFalsy();

  const [metrics] = await testStorage()
    .bucket(bucket())
    .file('pipeline-root/train-jp-2026-11-21/metrics.json')
    .download();
  expect(JSON.parse(metrics.toString())).toHaveProperty('auc');
  const [files] = await testStorage().bucket(bucket()).getFiles({ prefix: 'pipeline-root/train-jp-2026-11-21/model/' });
  expect(files.length).toBeGreaterThan(0);
  // A Get by the id-form name finds the same job.
  expect((await get(`${parentOf(project)}/pipelineJobs/train-jp-2026-11-21`)).name).toBe(created.name);
});

test('a duplicate pipelineJobId is ALREADY_EXISTS, even after the first job ended', async () => {
  const parent = parentOf(uniqueProject());
  await clients.pipelines.createPipelineJob({ parent, pipelineJobId: 'dup', pipelineJob: pipelineJob() });
  const err = await rpcError(
    clients.pipelines.createPipelineJob({ parent, pipelineJobId: 'dup', pipelineJob: pipelineJob() }),
  );
  expect(err).toEqual({ code: 6, details: 'Pipeline job with the specified ID already exists.' });
});

test.each([
  [
    'a bad parent',
    { parent: 'projects/x/zones/us' },
    /Field: parent; Message: must be "projects\/\{project\}\/locations\/\{location\}"/,
  ],
  [
    'an invalid label key',
    { pipelineJob: pipelineJob({ labels: { Env: 'x' } }) },
    /pipeline_job\.labels\.Env; Message: Label key "Env" is invalid/,
  ],
  [
    'a label value too long',
    { pipelineJob: pipelineJob({ labels: { env: 'x'.repeat(64) } }) },
    /Label value .* is invalid/,
  ],
  [
    'a missing spec',
    { pipelineJob: pipelineJob({ pipelineSpec: null }) },
    /pipeline_job\.pipeline_spec; Message: Required field is not set/,
  ],
  [
    'a spec that is not KFP IR',
    { pipelineJob: pipelineJob({ pipelineSpec: value({ hello: 'world' }).structValue }) },
    /pipelineInfo\.name/,
  ],
  [
    'no pipeline root',
    { pipelineJob: pipelineJob({ runtimeConfig: { parameterValues: { partition: value('x') } } }) },
    /gcs_output_directory; Message: Required field is not set/,
  ],
  [
    'a parameter of the wrong type',
    { pipelineJob: pipelineJob({}, { partition: 'p', epochs: 'ten' }) },
    /Parameter "epochs" must be an integer \(NUMBER_INTEGER\), got a string/,
  ],
  [
    'a non-integer for an integer',
    { pipelineJob: pipelineJob({}, { partition: 'p', epochs: 2.5 }) },
    /"epochs" must be an integer \(NUMBER_INTEGER\), got 2.5/,
  ],
  [
    'an unknown parameter',
    { pipelineJob: pipelineJob({}, { partition: 'p', learningrate: 0.1 }) },
    /no input parameter "learningrate"; its parameters are: .*learning_rate/,
  ],
  [
    'a missing required parameter',
    { pipelineJob: pipelineJob({}, { epochs: 3 }) },
    /required pipeline parameter "partition" is not set/,
  ],
  ['a bad pipelineJobId', { pipelineJobId: 'Train_1' }, /pipeline_job_id; Message: "Train_1" is invalid/],
])('%s is INVALID_ARGUMENT with the reason', async (_what, overrides, message) => {
  const req = { parent: parentOf(uniqueProject()), pipelineJob: pipelineJob(), ...overrides };
  const err = await rpcError(clients.pipelines.createPipelineJob(req));
  expect(err.code).toBe(3);
  expect(err.details).toMatch(message);
});

test('valid parameters of every type are accepted', async () => {
  const params = {
    partition: '2026-11-21',
    country: 'BR',
    sns: 'tiktok',
    learning_rate: 0.1,
    epochs: 3,
    use_gpu: true,
    feature_columns: ['a'],
    labels: { k: 'v' },
  };
  const [job] = await clients.pipelines.createPipelineJob({
    parent: parentOf(uniqueProject()),
    pipelineJob: pipelineJob({}, params),
  });
  expect(job.name).toMatch(/\/pipelineJobs\/\d{19}$/); // server-made ids are numeric
});

test('list filters by label and state, newest first, with page tokens', async () => {
  const project = uniqueProject();
  const parent = parentOf(project);
  await control.addRule({
    match: { project, labels: { outcome: 'fail' } },
    script: { outcome: 'FAILED', runningMs: 0 },
  });
  const names: string[] = [];
  for (const [i, outcome] of ['ok', 'ok', 'fail'].entries()) {
    const [j] = await clients.pipelines.createPipelineJob({
      parent,
      pipelineJobId: `job-${i}`,
      pipelineJob: pipelineJob({ labels: { outcome, n: String(i) } }),
    });
    names.push(j.name!);
  }
  await waitForState(() => get(names[2]!), ['PIPELINE_STATE_FAILED']);
  await waitForState(() => get(names[1]!), ['PIPELINE_STATE_SUCCEEDED']);

  const [ok] = await clients.pipelines.listPipelineJobs({ parent, filter: 'labels.outcome="ok"' });
  expect(ok.map((j) => j.name)).toEqual([names[1], names[0]]);
  const [failed] = await clients.pipelines.listPipelineJobs({
    parent,
    filter: 'state="PIPELINE_STATE_FAILED" AND labels.n:*',
  });
  expect(failed.map((j) => j.name)).toEqual([names[2]]);

  const [page1, , raw1] = await clients.pipelines.listPipelineJobs({ parent, pageSize: 2 }, { autoPaginate: false });
  expect(page1).toHaveLength(2);
  expect(raw1?.nextPageToken).toBeTruthy();
  const [page2, , raw2] = await clients.pipelines.listPipelineJobs(
    { parent, pageSize: 2, pageToken: raw1.nextPageToken! },
    { autoPaginate: false },
  );
  expect(page2.map((j) => j.name)).toEqual([names[0]]);
  expect(raw2?.nextPageToken).toBeFalsy();

  const err = await rpcError(clients.pipelines.listPipelineJobs({ parent, filter: 'colour="red"' }));
  expect(err.code).toBe(3);
  expect(err.details).toMatch(/unsupported field "colour"/);
});

test('scripted outcomes: FAILED with its error, PAUSED, and held in RUNNING until advanced', async () => {
  const project = uniqueProject();
  const parent = parentOf(project);
  await control.addRule({
    match: { project, displayName: 'will-fail' },
    script: {
      outcome: 'FAILED',
      error: { code: 7, message: "Permission 'aiplatform.metadataStores.get' denied" },
      runningMs: 50,
    },
  });
  await control.addRule({
    match: { project, displayName: 'will-pause' },
    script: { outcome: 'PAUSED', runningMs: 50 },
  });
  await control.addRule({
    match: { project, displayName: 'held' },
    script: { holdIn: 'RUNNING', metrics: { auc: 0.55 } },
  });

  const [failing] = await clients.pipelines.createPipelineJob({
    parent,
    pipelineJob: pipelineJob({ displayName: 'will-fail' }),
  });
  const [pausing] = await clients.pipelines.createPipelineJob({
    parent,
    pipelineJob: pipelineJob({ displayName: 'will-pause' }),
  });
  const [held] = await clients.pipelines.createPipelineJob({
    parent,
    pipelineJobId: 'held-job',
    pipelineJob: pipelineJob({ displayName: 'held' }),
  });

  const failed = await waitForState(() => get(failing.name!), ['PIPELINE_STATE_FAILED']);
  expect(failed.error?.code).toBe(7);
  expect(failed.error?.message).toContain('metadataStores');
  const paused = await waitForState(() => get(pausing.name!), ['PIPELINE_STATE_PAUSED']);
  expect(paused.endTime).toBeFalsy();

  await waitForState(() => get(held.name!), ['PIPELINE_STATE_RUNNING']);
  await new Promise((r) => setTimeout(r, 1_500)); // longer than the default run time
  expect((await get(held.name!)).state).toBe('PIPELINE_STATE_RUNNING');
  await control.advance(held.name!);
  expect((await get(held.name!)).state).toBe('PIPELINE_STATE_SUCCEEDED');
  const [metrics] = await testStorage().bucket(bucket()).file('pipeline-root/held-job/metrics.json').download();
  expect(JSON.parse(metrics.toString())).toEqual({ auc: 0.55 });
});

test('cancel: honoured → CANCELLED with error code 1; lost race → SUCCEEDED; terminal → FAILED_PRECONDITION', async () => {
  const project = uniqueProject();
  const parent = parentOf(project);
  await control.addRule({
    match: { project, displayName: 'honoured' },
    script: { holdIn: 'RUNNING', cancellingMs: 300 },
  });
  await control.addRule({
    match: { project, displayName: 'lost' },
    script: { holdIn: 'RUNNING', cancel: 'lose-succeed' },
  });
  const [a] = await clients.pipelines.createPipelineJob({
    parent,
    pipelineJob: pipelineJob({ displayName: 'honoured' }),
  });
  const [b] = await clients.pipelines.createPipelineJob({ parent, pipelineJob: pipelineJob({ displayName: 'lost' }) });
  await waitForState(() => get(a.name!), ['PIPELINE_STATE_RUNNING']);
  await waitForState(() => get(b.name!), ['PIPELINE_STATE_RUNNING']);

  await clients.pipelines.cancelPipelineJob({ name: a.name });
  // Cancel is asynchronous: the job is CANCELLING first.
  expect((await get(a.name!)).state).toBe('PIPELINE_STATE_CANCELLING');
  const cancelled = await waitForState(() => get(a.name!), ['PIPELINE_STATE_CANCELLED']);
  expect(cancelled.error?.code).toBe(1);

  await clients.pipelines.cancelPipelineJob({ name: b.name });
  const lost = await waitForState(() => get(b.name!), ['PIPELINE_STATE_SUCCEEDED', 'PIPELINE_STATE_CANCELLED']);
  expect(lost.state).toBe('PIPELINE_STATE_SUCCEEDED');

  const err = await rpcError(clients.pipelines.cancelPipelineJob({ name: a.name }));
  expect(err.code).toBe(9);
  expect(err.details).toMatch(/is in state PIPELINE_STATE_CANCELLED and cannot be canceled/);
  expect((await control.job(a.name!)).cancelRequested).toBe(true);
});

test('an unknown job is NOT_FOUND', async () => {
  const err = await rpcError(get(`${parentOf(uniqueProject())}/pipelineJobs/nope`));
  expect(err.code).toBe(5);
});
