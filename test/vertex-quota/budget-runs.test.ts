// The worker's Vertex call budget (infra/vertex/budget.ts) under real runs: a real worker and dev
// server, the real aiplatform clients against the emulator. A 429 storm while training runs and
// prediction segments submit and watch fails nothing and slows the budget down; a budget of N
// reads a minute holds across watches, submits and cancels, as the emulator counts them; the Model
// Registry's calls, an upload's operation polls included, take from it too. Each test in a Vertex
// project of its own; the watch is whichever CT_VERTEX_WATCH selects.
import { CancelledFailure, type WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startPredictionRun } from '../../client/prediction';
import { startTrainingRun } from '../../client/training';
import { trainingStatusQuery } from '../../contracts';
import { busiestWindow } from '../../emulators/vertex-ai/control-client';
import { createVertexClientFactory } from '../../infra/vertex/clients';
import { uniquePartition, type IsolatedProject } from '../helpers/isolation';
import {
  customJobTraining,
  dailyData,
  kfpTraining,
  monthlyData,
  projectWith,
  trainsAndPredicts,
} from '../helpers/pipelines';
import { withWorker, type WorkerContext } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { emulatorControl, LOCATION, parentOf } from '../helpers/vertex';
import { testStack } from '../setup/test-stack';

jest.setTimeout(300_000);

const { EventType } = temporal.api.enums.v1;
const control = emulatorControl();
let iso: IsolatedProject;
// Partitions of the test's own: run ids name no project.
let partition: string;
let month: string;
// Two attempts for `engagement` (a PipelineJob per segment) and `churn` (a CustomJob, monthly), so
// `attempts: 1` shows no attempt was spent on a 429; `predicted` (in `predict`) trains a model and
// predicts the three segments with it.
beforeEach(() => {
  iso = projectWith({
    engagement: {
      data: dailyData(['posts']),
      training: kfpTraining,
      segments: { countries: ['JP', 'US'], sns: ['instagram'] },
      retry: { maxAttempts: 2 },
    },
    churn: { data: monthlyData(['creator_activity']), training: customJobTraining, retry: { maxAttempts: 2 } },
    predicted: {
      ...trainsAndPredicts({ countries: ['JP', 'US', 'BR'], sns: ['instagram', 'youtube', 'tiktok'] }),
      environments: { predict: {} },
    },
  });
  partition = uniquePartition();
  month = uniquePartition('monthly');
});
afterEach(() => iso.cleanup());

const budgeted = (env: { CT_VERTEX_READS_PER_MINUTE?: number; CT_VERTEX_BUDGET_MAX_WAIT_MS?: number } = {}) =>
  createVertexClientFactory({
    VERTEX_API_ENDPOINT: `${testStack().CT_TEST_VERTEX_HOST}:${testStack().CT_TEST_VERTEX_PORT}`,
    ...env,
  });

const SEGMENTS = ['jp-instagram', 'us-tiktok', 'br-youtube'];
/** Methods the emulator (like Vertex) counts against "Job or LRO submission requests"; the rest are reads. */
const SUBMISSIONS = new Set(['CreatePipelineJob', 'CreateCustomJob', 'CreateBatchPredictionJob', 'UploadModel']);
const FAILURE_EVENTS = new Set([
  EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
  EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
]);

/** 429s the emulator answered this project's calls after call `after` (its log's sequence number). */
const quotaErrors = async (after = 0) =>
  (await control.calls({ project: iso.project, after })).filter((c) => c.codeName === 'RESOURCE_EXHAUSTED').length;
const lastSeq = async () => (await control.calls()).at(-1)?.seq ?? 0;

async function seedInputs(ctx: WorkerContext) {
  await Promise.all(
    SEGMENTS.map((s) => {
      const [country, sns] = s.split('-');
      return ctx.storage
        .bucket('ct-test-bucket')
        .file(`predict-in/predicted/${partition}/${country!.toUpperCase()}-${sns}/part-0.jsonl`)
        .save(`${JSON.stringify({ user: s })}\n`, { resumable: false });
    }),
  );
}

const train = (ctx: WorkerContext, pipeline: string, environment: string, segment?: string) =>
  startTrainingRun(
    ctx.client,
    iso.config,
    // churn's partitions are monthly
    {
      pipeline,
      environment,
      partition: pipeline === 'churn' ? month : partition,
      segment,
      assumeDataReady: true,
    },
    { taskQueue: ctx.taskQueue },
  );

async function failureEvents(handle: WorkflowHandle) {
  const events = (await handle.fetchHistory()).events ?? [];
  return events.filter((e) => FAILURE_EVENTS.has(e.eventType!)).map((e) => EventType[e.eventType!]);
}

test('a 429 storm while training runs and prediction segments submit and watch: each succeeds on its first attempt with one job, and the budget slows down', async () => {
  const vertex = budgeted();
  const rates = () => ({
    read: vertex.budget.ratePerMinute(iso.project, LOCATION, 'read'),
    create: vertex.budget.ratePerMinute(iso.project, LOCATION, 'create'),
  });
  /** Every call of this project gets 429 for `ms`: the creates, the watches, the registry's calls. */
  const storm = async (ms: number) => {
    await control.addFault({
      method: '*',
      project: iso.project,
      code: 'RESOURCE_EXHAUSTED',
      probability: 1,
    });
    await new Promise((r) => setTimeout(r, ms));
    await control.clearFaults(iso.project);
  };
  try {
    await withWorker(
      async (ctx) => {
        await seedInputs(ctx);
        const configured = rates();
        const stormed = storm(8_000);
        const trainings = await Promise.all([
          train(ctx, 'engagement', 'staging', 'jp-instagram'),
          train(ctx, 'engagement', 'staging', 'us-instagram'),
          train(ctx, 'churn', 'staging'),
          train(ctx, 'predicted', 'predict'),
        ]);
        await stormed;
        // Right after the storm (a quiet minute would restore them), each bucket that got 429s runs slower.
        const hit = new Set(
          (await control.calls({ project: iso.project }))
            .filter((c) => c.codeName === 'RESOURCE_EXHAUSTED')
            .map((c) => (SUBMISSIONS.has(c.method) ? 'create' : 'read')),
        );
        expect(hit).toContain('create');
        const after = rates();
        for (const bucket of hit) expect(after[bucket]).toBeLessThan(configured[bucket]);

        const champion = await trainings[3].result();
        expect(champion.model?.aliases).toContain('champion');
        // Another storm while the segments submit and watch.
        const before = await lastSeq();
        const stormedAgain = storm(6_000);
        const prediction = await startPredictionRun(
          ctx.client,
          iso.config,
          { pipeline: 'predicted', environment: 'predict', partition, segments: SEGMENTS },
          { taskQueue: ctx.taskQueue },
        );
        await stormedAgain;
        expect(await quotaErrors(before)).toBeGreaterThan(0);
        const summary = await prediction.result();

        // Every run succeeded; no training attempt was spent on a 429 (attempts: 1), no segment failed.
        for (const t of trainings) expect(await t.result()).toMatchObject({ status: 'succeeded', attempts: 1 });
        expect(summary).toMatchObject({ verdict: 'succeeded', progress: { total: 3, succeeded: 3, failed: 0 } });
        // No run, segment or activity ended in a failure: the 429s stayed inside activity attempts.
        const segments = SEGMENTS.map((s) =>
          ctx.client.workflow.getHandle(`prediction:predict:predicted:${partition}:${s}`),
        );
        for (const h of [...trainings, prediction, ...segments]) expect(await failureEvents(h)).toEqual([]);
        // Exactly one Vertex job per attempt: one per training run and one per segment.
        const jobs = await control.jobs({ project: iso.project });
        const perAttempt = jobs.map(
          (j) =>
            `${j.labels['ct-pipeline']}/${j.labels['ct-segment'] ?? `${j.labels['ct-country'] ?? ''}-${j.labels['ct-sns'] ?? ''}`}`,
        );
        expect(perAttempt.sort()).toEqual(
          [
            'engagement/jp-instagram',
            'engagement/us-instagram',
            'churn/-',
            'predicted/-',
            ...SEGMENTS.map((s) => `predicted/${s}`),
          ].sort(),
        );
      },
      { project: iso, vertex },
    );
  } finally {
    await vertex.close();
  }
});

test('a budget of N reads a minute holds across watches, submits and cancels, as the emulator counts them', async () => {
  const N = 60;
  // The minute's N go at once, then callers wait for the window: long enough not to be refused,
  // so a watch waits for its read instead of backing off.
  const vertex = budgeted({ CT_VERTEX_READS_PER_MINUTE: N, CT_VERTEX_BUDGET_MAX_WAIT_MS: 65_000 });
  try {
    await withWorker(
      async (ctx) => {
        // Both jobs run until told: meanwhile their watches want a read every 100 ms each (the
        // pipelines' poll interval, the watch at a fixed interval: no read share to pace it), twenty
        // times what the budget allows.
        await control.addRule({
          match: { project: iso.project, labels: { 'ct-partition': partition } },
          script: { holdIn: 'RUNNING', cancellingMs: 500 },
        });
        const [cancelled, finished] = await Promise.all([
          train(ctx, 'engagement', 'staging', 'jp-instagram'),
          train(ctx, 'engagement', 'staging', 'us-instagram'),
        ]);
        const running = async (h: typeof cancelled) =>
          eventually(async () => {
            const s = await h.query(trainingStatusQuery);
            return s.phase === 'running' && s.job ? s.job : undefined;
          }, 60_000);
        const [, job] = await Promise.all([running(cancelled), running(finished)]);
        await new Promise((r) => setTimeout(r, 10_000));
        await cancelled.cancel();
        await control.advance(job.name);
        const err = await cancelled.result().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
        expect(await finished.result()).toMatchObject({ status: 'succeeded' });

        const calls = await control.calls({ project: iso.project });
        const reads = calls.filter((c) => !SUBMISSIONS.has(c.method));
        const times = reads.map((c) => Date.parse(c.time));
        // The watches, the duplicate sweeps and the cancel all took from the one budget.
        expect(new Set(reads.map((c) => c.method))).toContain('CancelPipelineJob');
        // At most N in any minute as the emulator stamps them (the budget frees a call's slot a
        // second after its minute, for the stamps' jitter).
        expect(busiestWindow(times, 60_000)).toBeLessThanOrEqual(N);
        // And the budget was what held them: the watches asked for far more, and the minute's N
        // went together (without it a minute holds ~1,200; spaced one a second, 10 s hold ~11).
        expect(busiestWindow(times, 60_000)).toBeGreaterThanOrEqual(N - 5);
        expect(busiestWindow(times, 10_000)).toBeGreaterThan(20);
      },
      { project: iso, vertex, watch: { readShare: 0 } },
    );
  } finally {
    await vertex.close();
  }
});

test('the Model Registry’s calls and an upload’s operation polls take from the project’s read budget too', async () => {
  // One read a minute and no waiting: the second read is refused at once.
  const vertex = budgeted({ CT_VERTEX_READS_PER_MINUTE: 1, CT_VERTEX_BUDGET_MAX_WAIT_MS: 0 });
  try {
    const { models } = vertex(LOCATION);
    const [op] = await models.uploadModel({
      parent: parentOf(iso.project),
      modelId: 'budgeted',
      model: { displayName: 'budgeted', artifactUri: 'gs://ct-test-bucket/model/', containerSpec: { imageUri: 'img' } },
    });
    // google-gax polls GetOperation past the client's methods: the first poll takes the minute's
    // one read; a second poll (if the upload was not done yet) is refused, never reaching Vertex.
    const polled = await op.promise().then(
      () => undefined,
      (e: unknown) => e,
    );
    if (polled !== undefined) expect(polled).toMatchObject({ name: 'VertexBudgetSpent', code: 8 });
    // The poll spent the minute's read: the registry's call is refused.
    await expect(models.getModel({ name: `${parentOf(iso.project)}/models/budgeted` })).rejects.toMatchObject({
      name: 'VertexBudgetSpent',
      message: expect.stringMatching(/read budget for projects\/.*CT_VERTEX_READS_PER_MINUTE: 1/) as unknown,
    });
    const calls = await control.calls({ project: iso.project });
    expect(calls.map((c) => c.method)).toEqual(['UploadModel', 'GetOperation']);
  } finally {
    await vertex.close();
  }
});
