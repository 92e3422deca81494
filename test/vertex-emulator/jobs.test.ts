// JobService (CustomJob, BatchPredictionJob) through the real client against the emulator, with
// outputs read back through @google-cloud/storage from fake-gcs-server.
import type { protos } from '@google-cloud/aiplatform';
import { testStorage, uniqueId } from '../helpers/temporal';
import { emulatorControl, parentOf, rpcError, uniqueProject, vertexClients, waitForState } from '../helpers/vertex';
import { testStack } from '../setup/test-stack';

type ICustomJob = protos.google.cloud.aiplatform.v1.ICustomJob;
type IBatchPredictionJob = protos.google.cloud.aiplatform.v1.IBatchPredictionJob;

const clients = vertexClients();
const control = emulatorControl();
afterAll(() => clients.close());
const bucket = () => testStack().CT_TEST_GCS_BUCKET;

function customJob(overrides: Partial<ICustomJob> = {}, base?: string): ICustomJob {
  return {
    displayName: 'ct-trainer',
    labels: { run: 'r1' },
    jobSpec: {
      workerPoolSpecs: [
        {
          machineSpec: { machineType: 'n1-standard-4' },
          replicaCount: 1,
          containerSpec: { imageUri: 'us-docker.pkg.dev/p/r/trainer:1' },
        },
      ],
      ...(base ? { baseOutputDirectory: { outputUriPrefix: base } } : {}),
    },
    ...overrides,
  };
}

const getCustom = (name: string) => clients.jobs.getCustomJob({ name }).then(([j]) => j);
const getBatch = (name: string) => clients.jobs.getBatchPredictionJob({ name }).then(([j]) => j);

test('a CustomJob gets a numeric id, runs to SUCCEEDED and writes model and metrics under its base output directory', async () => {
  const project = uniqueProject();
  const base = `gs://${bucket()}/custom/${project}`;
  await control.addRule({ match: { project }, script: { metrics: { rmse: 3.1 } } });
  const [job] = await clients.jobs.createCustomJob({ parent: parentOf(project), customJob: customJob({}, base) });
  expect(job.name).toMatch(/^projects\/\d{12}\/locations\/us-central1\/customJobs\/\d{19}$/);
  expect(job.state).toBe('JOB_STATE_QUEUED');
  const done = await waitForState(() => getCustom(job.name!), ['JOB_STATE_SUCCEEDED']);
  expect(done.startTime).toBeTruthy();
  expect(done.endTime).toBeTruthy();
  const [metrics] = await testStorage().bucket(bucket()).file(`custom/${project}/metrics.json`).download();
  expect(JSON.parse(metrics.toString())).toEqual({ rmse: 3.1 });
  const [model] = await testStorage().bucket(bucket()).file(`custom/${project}/model/model.bst`).exists();
  expect(model).toBe(true);
});

test('CustomJobs are found by label (how an idempotent submit finds an earlier attempt), and cancelled', async () => {
  const project = uniqueProject();
  const parent = parentOf(project);
  const run = uniqueId('run');
  await control.addRule({ match: { project }, script: { holdIn: 'RUNNING' } });
  const [a] = await clients.jobs.createCustomJob({ parent, customJob: customJob({ labels: { run } }) });
  await clients.jobs.createCustomJob({ parent, customJob: customJob({ labels: { run: 'other' } }) });
  const [found] = await clients.jobs.listCustomJobs({ parent, filter: `labels.run="${run}"` });
  expect(found.map((j) => j.name)).toEqual([a.name]);

  await waitForState(() => getCustom(a.name!), ['JOB_STATE_RUNNING']);
  await clients.jobs.cancelCustomJob({ name: a.name });
  const cancelled = await waitForState(() => getCustom(a.name!), ['JOB_STATE_CANCELLED']);
  expect(cancelled.error?.code).toBe(1);
});

test.each([
  [
    'no worker pools',
    customJob({ jobSpec: { workerPoolSpecs: [] } }),
    /worker_pool_specs; Message: Required field is not set/,
  ],
  ['no display name', customJob({ displayName: '' }), /custom_job\.display_name; Message: Required field is not set/],
  [
    'a first pool with 2 replicas',
    customJob({
      jobSpec: {
        workerPoolSpecs: [
          { machineSpec: { machineType: 'n1-standard-4' }, replicaCount: 2, containerSpec: { imageUri: 'img' } },
        ],
      },
    }),
    /replica_count; Message: The first worker pool must have replica_count 1/,
  ],
])('a CustomJob with %s is INVALID_ARGUMENT', async (_what, job, message) => {
  const err = await rpcError(clients.jobs.createCustomJob({ parent: parentOf(uniqueProject()), customJob: job }));
  expect(err.code).toBe(3);
  expect(err.details).toMatch(message);
});

async function uploadModel(project: string, displayName: string): Promise<string> {
  const [op] = await clients.models.uploadModel({
    parent: parentOf(project),
    model: {
      displayName,
      containerSpec: { imageUri: 'us-docker.pkg.dev/p/r/server:1' },
      artifactUri: `gs://${bucket()}/models/${displayName}`,
    },
  });
  const [res] = await op.promise();
  return res.model!;
}

async function writeInstances(prefix: string, n: number): Promise<string> {
  const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ user_id: i, followers: i * 10 })).join('\n');
  await testStorage().bucket(bucket()).file(`${prefix}/part-0.jsonl`).save(lines, { resumable: false });
  return `gs://${bucket()}/${prefix}/*.jsonl`;
}

function batchJob(
  model: string,
  input: string,
  outputPrefix: string,
  labels: Record<string, string> = {},
): IBatchPredictionJob {
  return {
    displayName: 'ct-predict-jp-instagram',
    model,
    labels,
    inputConfig: { instancesFormat: 'jsonl', gcsSource: { uris: [input] } },
    outputConfig: { predictionsFormat: 'jsonl', gcsDestination: { outputUriPrefix: outputPrefix } },
  };
}

test('a BatchPredictionJob predicts every instance, reports outputInfo and completionStats, and writes its files', async () => {
  const project = uniqueProject();
  const model = await uploadModel(project, 'ctmodel');
  const input = await writeInstances(`batch-in/${project}`, 7);
  const [job] = await clients.jobs.createBatchPredictionJob({
    parent: parentOf(project),
    batchPredictionJob: batchJob(`${model}@default`, input, `gs://${bucket()}/batch-out/${project}`),
  });
  expect(job.modelVersionId).toBe('1');
  // The control API shows the model as asked for and the version it resolved to.
  expect(await control.job(job.name!)).toMatchObject({ model: `${model}@default`, modelVersionId: '1' });
  const done = await waitForState(() => getBatch(job.name!), ['JOB_STATE_SUCCEEDED']);
  const dir = done.outputInfo!.gcsOutputDirectory!;
  expect(dir).toMatch(
    new RegExp(
      `^gs://${bucket()}/batch-out/${project}/prediction-ctmodel-\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$`,
    ),
  );
  expect(done.completionStats).toMatchObject({ successfulCount: '7', failedCount: '0' });
  const path = dir.replace(`gs://${bucket()}/`, '');
  const [predictions] = await testStorage().bucket(bucket()).file(`${path}/predictions_0001.jsonl`).download();
  const rows = predictions
    .toString()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { instance: { user_id: number }; prediction: number });
  expect(rows).toHaveLength(7);
  expect(rows[3]!.instance.user_id).toBe(3);
  expect(typeof rows[3]!.prediction).toBe('number');
});

test('PARTIALLY_SUCCEEDED writes the failed instances to the errors file', async () => {
  const project = uniqueProject();
  await control.addRule({
    match: { project, kind: 'batchPredictionJob' },
    script: { outcome: 'PARTIALLY_SUCCEEDED', failedInstances: 2 },
  });
  const model = await uploadModel(project, 'partial');
  const input = await writeInstances(`batch-in/${project}`, 5);
  const [job] = await clients.jobs.createBatchPredictionJob({
    parent: parentOf(project),
    batchPredictionJob: batchJob(model, input, `gs://${bucket()}/batch-out/${project}`),
  });
  const done = await waitForState(() => getBatch(job.name!), ['JOB_STATE_PARTIALLY_SUCCEEDED']);
  expect(done.completionStats).toMatchObject({ successfulCount: '3', failedCount: '2' });
  expect(done.partialFailures?.length).toBe(1);
  const path = done.outputInfo!.gcsOutputDirectory!.replace(`gs://${bucket()}/`, '');
  const [errors] = await testStorage().bucket(bucket()).file(`${path}/errors_0001.jsonl`).download();
  expect(errors.toString().trim().split('\n')).toHaveLength(2);
});

test('EXPIRED is a terminal state for batch jobs; a job whose input is missing ends FAILED with the reason', async () => {
  const project = uniqueProject();
  await control.addRule({ match: { project, displayName: 'expires' }, script: { outcome: 'EXPIRED' } });
  const model = await uploadModel(project, 'm');
  const [expiring] = await clients.jobs.createBatchPredictionJob({
    parent: parentOf(project),
    batchPredictionJob: {
      ...batchJob(model, `gs://${bucket()}/none/*.jsonl`, `gs://${bucket()}/o`),
      displayName: 'expires',
    },
  });
  await waitForState(() => getBatch(expiring.name!), ['JOB_STATE_EXPIRED']);
  const [missing] = await clients.jobs.createBatchPredictionJob({
    parent: parentOf(project),
    batchPredictionJob: batchJob(model, `gs://${bucket()}/none/${project}/*.jsonl`, `gs://${bucket()}/o`),
  });
  const failed = await waitForState(() => getBatch(missing.name!), ['JOB_STATE_FAILED']);
  expect(failed.error?.code).toBe(3);
  expect(failed.error?.message).toContain('No files found matching');
});

test('a batch job for a model that does not exist is NOT_FOUND; a malformed one INVALID_ARGUMENT', async () => {
  const parent = parentOf(uniqueProject());
  const notFound = await rpcError(
    clients.jobs.createBatchPredictionJob({
      parent,
      batchPredictionJob: batchJob(`${parent}/models/123`, `gs://${bucket()}/x`, `gs://${bucket()}/o`),
    }),
  );
  expect(notFound.code).toBe(5);
  const bad = batchJob(`${parent}/models/123`, `gs://${bucket()}/x`, `gs://${bucket()}/o`);
  bad.inputConfig = { gcsSource: { uris: ['s3://nope'] } };
  const invalid = await rpcError(clients.jobs.createBatchPredictionJob({ parent, batchPredictionJob: bad }));
  expect(invalid.code).toBe(3);
  expect(invalid.details).toMatch(/instances_format; Message: Required field is not set/);
  expect(invalid.details).toMatch(/"s3:\/\/nope" is not a gs:\/\/ URI/);
});

test('a running BatchPredictionJob is cancelled; a cancel that loses the race ends FAILED', async () => {
  const project = uniqueProject();
  const parent = parentOf(project);
  await control.addRule({ match: { project, displayName: 'cancel-me' }, script: { holdIn: 'RUNNING' } });
  await control.addRule({
    match: { project, displayName: 'too-late' },
    script: { holdIn: 'RUNNING', cancel: 'lose-fail', error: { code: 13, message: 'worker crashed' } },
  });
  const model = await uploadModel(project, 'cancellable');
  const make = (displayName: string) =>
    clients.jobs
      .createBatchPredictionJob({
        parent,
        batchPredictionJob: { ...batchJob(model, `gs://${bucket()}/x/*.jsonl`, `gs://${bucket()}/o`), displayName },
      })
      .then(([j]) => j.name!);
  const [a, b] = [await make('cancel-me'), await make('too-late')];
  await waitForState(() => getBatch(a), ['JOB_STATE_RUNNING']);
  await waitForState(() => getBatch(b), ['JOB_STATE_RUNNING']);
  await clients.jobs.cancelBatchPredictionJob({ name: a });
  await clients.jobs.cancelBatchPredictionJob({ name: b });
  expect((await getBatch(a)).state).toBe('JOB_STATE_CANCELLING');
  expect((await waitForState(() => getBatch(a), ['JOB_STATE_CANCELLED'])).error?.code).toBe(1);
  const lost = await waitForState(() => getBatch(b), ['JOB_STATE_FAILED', 'JOB_STATE_CANCELLED']);
  expect(lost.state).toBe('JOB_STATE_FAILED');
  expect(lost.error?.message).toBe('worker crashed');
  const [listed] = await clients.jobs.listBatchPredictionJobs({ parent, filter: 'state="JOB_STATE_CANCELLED"' });
  expect(listed.map((j) => j.name)).toEqual([a]);
});

test('CustomJob and BatchPredictionJob listings refuse update_time and end_time, as job_service.proto documents', async () => {
  const parent = parentOf(uniqueProject());
  for (const filter of ['update_time>"2026-01-01T00:00:00Z"', 'end_time>"2026-01-01T00:00:00Z"']) {
    for (const list of [
      clients.jobs.listCustomJobs({ parent, filter }),
      clients.jobs.listBatchPredictionJobs({ parent, filter }),
    ]) {
      const err = await rpcError(list);
      expect(err.code).toBe(3);
      expect(err.details).toMatch(/unsupported field "(update|end)_time" in filter/);
    }
  }
  // create_time is what a watch of many jobs can bound its listing by.
  await expect(
    clients.jobs.listCustomJobs({ parent, filter: 'labels.ct-pipeline:* AND create_time>="2026-01-01T00:00:00Z"' }),
  ).resolves.toBeDefined();
});

test('a listing with a read_mask returns only the fields it names (snake_case, lowerCamelCase or dotted); a path naming no field is INVALID_ARGUMENT', async () => {
  const project = uniqueProject();
  const parent = parentOf(project);
  await control.addRule({ match: { project }, script: { holdIn: 'RUNNING' } });
  const [created] = await clients.jobs.createCustomJob({ parent, customJob: customJob({ labels: { run: 'masked' } }) });
  const list = (paths: string[]) => clients.jobs.listCustomJobs({ parent, readMask: { paths } }).then(([jobs]) => jobs);

  const [masked] = await list(['name', 'state', 'create_time', 'labels', 'jobSpec.baseOutputDirectory']);
  expect(masked!.name).toBe(created.name);
  expect(masked!.createTime?.seconds).toBeTruthy();
  expect(masked!.labels).toEqual({ run: 'masked' });
  expect(masked!.displayName).toBeFalsy();
  expect(masked!.jobSpec?.workerPoolSpecs ?? []).toEqual([]);
  const [whole] = await list([]);
  expect(whole!.displayName).toBe('ct-trainer');
  expect(whole!.jobSpec?.workerPoolSpecs).toHaveLength(1);

  const err = await rpcError(list(['name', 'no_such_field']));
  expect(err.code).toBe(3);
  expect(err.details).toMatch(/read_mask.*"no_such_field" is not a field of CustomJob/);
});
