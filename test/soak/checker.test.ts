// The soak's checker (bench/soak/checker.ts) against a small real world on the test stack: a healthy
// one passes every invariant; then, one break at a time, it catches what it claims and names the
// ids: a job left running by a run that was terminated instead of cancelled, a second job for one
// attempt, a second run of one partition, a manifest naming a version that was not champion, and a
// prediction run whose segments used two versions. Each break adds to the world; each test asserts
// the invariant it is about.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { checkSoak, type SoakCheck } from '../../bench/soak/checker';
import { emptyLedger, type SoakLedger } from '../../bench/soak/ledger';
import { startPredictionRun } from '../../client/prediction';
import { applySync, planSync } from '../../client/schedules/sync';
import { modelReadySignal, scheduleId, trainingRunId, trainingRunWorkflowType } from '../../contracts';
import { deliverDataReady } from '../../starts/data-ready';
import { testStack } from '../setup/test-stack';
import { eventually } from '../helpers/eventually';
import { uniquePartition } from '../helpers/isolation';
import {
  batchPrediction,
  customJobTraining,
  dailyData,
  kfpTraining,
  modelReadyFiles,
  modelRegistry,
  projectWith,
} from '../helpers/pipelines';
import { seedPredictionInputs } from '../helpers/prediction-steps';
import { testStorage, withWorker, type WorkerContext } from '../helpers/temporal';
import { emulatorControl, parentOf, vertexClients, waitForState } from '../helpers/vertex';

jest.setTimeout(180_000);

const ENV = 'soak';
const tag = randomUUID()
  .slice(0, 6)
  .replace(/^[0-9]/, 'a');
// churn: a CustomJob per partition, a model promoted at once with a manifest, and its prediction
// (two segments, one shared model) started by model-ready. engage: a PipelineJob per segment.
// nightly: a schedule every 4 s trains yesterday's partition, skipped after 2 s without data.
// score: a prediction that waits for a fresh model (nothing promotes one unless told).
const churn = `churn-${tag}`;
const engage = `engage-${tag}`;
const nightly = `nightly-${tag}`;
const score = `score-${tag}`;
const SEGMENTS = ['jp-instagram', 'us-instagram'];
const segments = { countries: ['JP', 'US'], sns: ['instagram'] };

const iso = projectWith(
  {
    [churn]: {
      data: dailyData(['events']),
      training: customJobTraining,
      model: { registry: modelRegistry, modelReady: modelReadyFiles() },
      prediction: batchPrediction(segments, { startOnModelReady: true }),
    },
    [engage]: { data: dailyData(['posts']), training: kfpTraining, segments },
    [nightly]: {
      data: dailyData(['never'], '2s', 'skip'),
      training: customJobTraining,
      schedules: { tick: { action: 'training', interval: '4s', partition: { offset: -1 } } },
    },
    [score]: {
      data: dailyData(['scores']),
      training: customJobTraining,
      model: { registry: modelRegistry },
      prediction: batchPrediction(segments, { model: { maxAge: '1h', waitTimeout: '5m' } }),
    },
  },
  ENV,
);
const { project, config } = iso;
const control = emulatorControl();
const vertex = vertexClients();
const storage = testStorage();
const [P1, P2, P3, P4, P5] = Array.from({ length: 5 }, () => uniquePartition('daily')) as [
  string,
  string,
  string,
  string,
  string,
];

const stack = testStack();
const ledger: SoakLedger = emptyLedger({
  temporalAddress: stack.CT_TEST_TEMPORAL_ADDRESS,
  namespace: stack.CT_TEST_NAMESPACE,
  taskQueue: project,
  vertexControlUrl: stack.CT_TEST_VERTEX_CONTROL_URL,
  vertexApiEndpoint: `${stack.CT_TEST_VERTEX_HOST}:${stack.CT_TEST_VERTEX_PORT}`,
  gcsEndpoint: stack.CT_TEST_GCS_ENDPOINT,
  configPath: iso.configPath,
});

// One worker for the file, polling the config's own task queue (the schedule's firings go there).
let ctx: WorkerContext;
let release: () => void;
let running: Promise<unknown>;
beforeAll(async () => {
  const ready = new Promise<WorkerContext>((resolve) => {
    running = withWorker(
      (c) => {
        resolve(c);
        return new Promise<void>((r) => (release = r));
      },
      { project: iso, taskQueue: project },
    );
  });
  ctx = await ready;
});
afterAll(async () => {
  await ctx.client.schedule
    .getHandle(scheduleId(ENV, nightly, 'tick'))
    .delete()
    .catch(() => undefined);
  release();
  await running;
  await iso.cleanup();
  await vertex.close();
});

const check = (client: Client = ctx.client): Promise<SoakCheck> =>
  checkSoak(ledger, { temporal: client, vertex: control, storage });
const invariant = (r: SoakCheck, name: string) => r.invariants.find((i) => i.name === name)!;

/** Data-ready as Airflow sends it, recorded as the driver records it: one entry per run it reached. */
async function dataReady(dataset: string, partition: string, flags: { duplicate?: boolean; late?: boolean } = {}) {
  const sentAt = new Date().toISOString();
  const report = await deliverDataReady(ctx.client, config, { environment: ENV, dataset, partition });
  for (const r of report.reached)
    ledger.dataReady.push({
      pipeline: r.pipeline,
      environment: ENV,
      segment: r.segment ?? '',
      dataset,
      partition,
      sentAt,
      duplicate: flags.duplicate ?? false,
      late: flags.late ?? false,
    });
  return report;
}

/** Waits until no run of the world is open (visibility). */
const settled = () =>
  eventually(async () => {
    for await (const _ of ctx.client.workflow.list({
      query: `TaskQueue = "${project}" AND ExecutionStatus = "Running"`,
    }))
      return undefined;
    return true;
  }, 90_000);

const jobsOf = (labels: Record<string, string>) => control.jobs({ project, labels });
const runningJobOf = (pipeline: string, partition: string) =>
  eventually(
    async () =>
      (await jobsOf({ 'ct-pipeline': pipeline, 'ct-partition': partition })).find((j) => /RUNNING/.test(j.state)),
    30_000,
  );

test('a healthy world: every invariant holds, and the figures count what ran', async () => {
  await seedPredictionInputs(storage, churn, P1, SEGMENTS);
  await control.addRule({
    match: { project, labels: { 'ct-pipeline': churn, 'ct-partition': P2 } },
    script: { holdIn: 'RUNNING' },
  });
  // Data arrives (the posts twice: a duplicate reaches the same runs and starts nothing).
  await dataReady('events', P1);
  await dataReady('posts', P1);
  await dataReady('posts', P1, { duplicate: true });
  // An operator cancels a run whose job runs: the run cancels the job.
  await dataReady('events', P2);
  const held = await runningJobOf(churn, P2);
  const p2 = trainingRunId({ pipeline: churn, environment: ENV, partition: P2 });
  ledger.cancels.push({ workflowId: p2, at: new Date().toISOString(), phase: 'running' });
  await ctx.client.workflow.getHandle(p2).cancel();
  // The schedule, as `ct schedules sync` makes it; its window is the 9 s after.
  await applySync(ctx.client, await planSync(ctx.client, config, ENV));
  const windowStart = Date.now();
  ledger.schedules.push({
    scheduleId: scheduleId(ENV, nightly, 'tick'),
    windowStart: new Date(windowStart).toISOString(),
    windowEnd: new Date(windowStart + 9_000).toISOString(),
  });
  await new Promise((r) => setTimeout(r, windowStart + 10_500 - Date.now()));
  await ctx.client.schedule.getHandle(scheduleId(ENV, nightly, 'tick')).pause('the window is over');
  await settled();

  const result = await check();
  if (process.env.CT_SOAK_PRINT) console.log(JSON.stringify(result, null, 2));
  for (const i of result.invariants) expect({ name: i.name, ok: i.ok, detail: i.detail }).toMatchObject({ ok: true });
  expect(result.ok).toBe(true);
  // Each invariant looked at something: P1 and P2 of churn, engage's two segments and yesterday's
  // nightly run; the jobs; the cancelled run; the firings; the manifest; the prediction run; the costs.
  const checked = Object.fromEntries(result.invariants.map((i) => [i.name, i.checked]));
  expect(checked).toMatchObject({
    'one run per partition': 5,
    'cancelled runs cancel their jobs': 1,
    'manifests name the champion': 1,
    'one model version per prediction run': 1,
  });
  expect(checked['no orphan jobs']).toBeGreaterThanOrEqual(6);
  expect(checked['schedule firings accounted for']).toBeGreaterThanOrEqual(2);
  expect(checked['own cost matches ct cost']).toBeGreaterThanOrEqual(6);
  expect(await control.job(held.name)).toMatchObject({ state: expect.stringMatching(/CANCELL/) as unknown });

  const f = result.figures;
  expect(f.runs.trainingRun).toMatchObject({ succeeded: 3, cancelled: 1, skipped: 1 });
  expect(f.runs.predictionRun).toMatchObject({ completed: 1 });
  expect(f.jobs.total).toBe(6);
  expect(f.dataReadyToJobCreatedMs.n).toBe(4);
  expect(f.endToNoticedMs.n).toBeGreaterThanOrEqual(5);
  expect(f.history.events.max).toBeGreaterThan(10);
  expect(f.history.bytes.p99).toBeGreaterThan(1_000);
});

test('a run terminated instead of cancelled leaves its job running: an orphan, and a cancel that skipped the job', async () => {
  await control.addRule({
    match: { project, labels: { 'ct-pipeline': churn, 'ct-partition': P3 } },
    script: { holdIn: 'RUNNING' },
  });
  await dataReady('events', P3);
  const job = await runningJobOf(churn, P3);
  const id = trainingRunId({ pipeline: churn, environment: ENV, partition: P3 });
  // The operator's cancel, through a path that ends the run without its cleanup.
  ledger.cancels.push({ workflowId: id, at: new Date().toISOString(), phase: 'running' });
  await ctx.client.workflow.getHandle(id).terminate('a cancel path that skips the job');

  const result = await check();
  const orphans = invariant(result, 'no orphan jobs');
  expect(orphans.ok).toBe(false);
  expect(orphans.offending).toEqual([job.name]);
  expect(orphans.why[job.name]).toContain(`${id} `);
  expect(orphans.why[job.name]).toContain('TERMINATED');
  const cancelled = invariant(result, 'cancelled runs cancel their jobs');
  expect(cancelled.ok).toBe(false);
  expect(cancelled.offending).toEqual([job.name]);
});

test('a second job for one attempt (the labels of a run’s attempt, run to its end) is a duplicate', async () => {
  const [original] = await control.jobs({ project, kind: 'customJob', labels: { 'ct-partition': P1 } });
  expect(original!.labels['ct-attempt']).toBeDefined();
  const [twin] = await vertex.jobs.createCustomJob({
    parent: parentOf(project),
    customJob: {
      displayName: 'a twin',
      labels: { ...original!.labels, 'vertex-emulator-run-ms': '200' },
      jobSpec: {
        workerPoolSpecs: [
          { machineSpec: { machineType: 'n1-standard-4' }, replicaCount: 1, containerSpec: { imageUri: 'img' } },
        ],
      },
    },
  });
  await waitForState(async () => (await vertex.jobs.getCustomJob({ name: twin.name! }))[0], ['JOB_STATE_SUCCEEDED']);

  const duplicates = invariant(await check(), 'one job per attempt');
  expect(duplicates.ok).toBe(false);
  expect(duplicates.offending).toEqual([twin.name]);
  expect(duplicates.why[twin.name!]).toContain(`beside ${original!.name}`);
});

test('a second run of a partition that already ran (started past the reuse policy) is caught', async () => {
  const id = trainingRunId({ pipeline: churn, environment: ENV, partition: P1 });
  const second = await ctx.client.workflow.start(trainingRunWorkflowType, {
    workflowId: id,
    taskQueue: project,
    args: [{ pipeline: churn, environment: ENV, partition: P1, assumeDataReady: true }],
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
  });
  await second.result();

  const partitions = invariant(await check(), 'one run per partition');
  expect(partitions.ok).toBe(false);
  expect(partitions.offending).toEqual([id]);
  expect(partitions.why[id]).toMatch(/^2 runs: /);
  expect(partitions.why[id]).toContain(second.firstExecutionRunId);
});

test('a manifest naming a version that was not the champion when it was written is caught', async () => {
  await seedPredictionInputs(storage, churn, P4, SEGMENTS);
  await dataReady('events', P4);
  await settled();
  const [model] = (await control.models(project)).filter((m) => m.name.endsWith(`/models/${churn}-${ENV}`));
  const champion = model!.versions.find((v) => v.aliases.includes('champion'))!.versionId;
  const stale = model!.versions.find((v) => v.versionId !== champion)!.versionId;
  const uri = `gs://ct-test-bucket/models/${project}/${churn}/${ENV}/manifest.json`;
  const file = storage.bucket('ct-test-bucket').file(`models/${project}/${churn}/${ENV}/manifest.json`);
  const [written] = await file.download();
  await file.save(JSON.stringify({ ...JSON.parse(written.toString()), version: stale }), { resumable: false });

  const manifests = invariant(await check(), 'manifests name the champion');
  expect(manifests.ok).toBe(false);
  expect(manifests.offending).toEqual([uri]);
  expect(manifests.why[uri]).toContain(`naming version ${stale}, but champion then was version ${champion}`);
});

test('a prediction run whose segments predicted with two versions of its model is caught', async () => {
  await seedPredictionInputs(storage, score, P5, SEGMENTS);
  const run = await startPredictionRun(ctx.client, config, { pipeline: score, environment: ENV, partition: P5 });
  // Both segments wait for a fresh model; two versions are announced, one to each (two promotions within one wait).
  const waiting = SEGMENTS.map((s) => ctx.client.workflow.getHandle(`${run.workflowId}:${s}`));
  for (const w of waiting)
    await eventually(async () => {
      for await (const _ of ctx.client.workflow.list({
        query: `awaitingModel = "${ENV}/${score}/all" AND WorkflowId = "${w.workflowId}"`,
      }))
        return true;
      return undefined;
    }, 30_000);
  const versions: { model: string; version: string }[] = [];
  for (let i = 0; i < 2; i++) {
    const [op] = await vertex.models.uploadModel({
      parent: parentOf(project),
      ...(versions[0] ? { parentModel: versions[0].model } : { modelId: `${score}-${ENV}` }),
      model: { displayName: score, artifactUri: 'gs://ct-test-bucket/m', containerSpec: { imageUri: 'img' } },
    });
    const [done] = await op.promise();
    versions.push({ model: done.model!, version: done.modelVersionId! });
  }
  for (const [i, w] of waiting.entries()) {
    const { model, version } = versions[i]!;
    await w.signal(modelReadySignal, {
      environment: ENV,
      pipeline: score,
      segment: null,
      model,
      version,
      modelVersionName: `${model}@${version}`,
      aliases: ['champion'],
      metrics: {},
      partition: P5,
      trainedAt: new Date().toISOString(),
    });
  }
  await run.result();

  const predictions = invariant(await check(), 'one model version per prediction run');
  const id = `${run.workflowId}/${(run as WorkflowHandleWithFirstExecutionRunId).firstExecutionRunId}`;
  expect(predictions.ok).toBe(false);
  expect(predictions.offending).toEqual([id]);
  expect(predictions.why[id]).toContain('2 versions');
});

test('npm run soak:check: the result as JSON on stdout, a line per invariant on stderr, exit 1 when one fails', async () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'ct-soak-')), 'ledger.json');
  writeFileSync(file, JSON.stringify(ledger));
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(path.join('node_modules', '.bin', 'tsx'), ['bench/soak/check.ts', file], {
        cwd: path.join(__dirname, '..', '..'),
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      let [out, err] = ['', ''];
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
    },
  );
  // The world as the tests above left it: every break still there, and nothing else.
  const result = JSON.parse(stdout) as SoakCheck;
  expect(code).toBe(1);
  expect(result.ok).toBe(false);
  expect(result.invariants.filter((i) => !i.ok).map((i) => i.name)).toEqual([
    'one run per partition',
    'no orphan jobs',
    'one job per attempt',
    'cancelled runs cancel their jobs',
    'manifests name the champion',
    'one model version per prediction run',
  ]);
  expect(stderr).toContain('FAIL no orphan jobs: 1 of ');
  expect(stderr).toContain('ok   schedule firings accounted for: ');
  expect(stderr).toContain('ok   own cost matches ct cost: ');
});
