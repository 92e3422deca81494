// Batch prediction per country × SNS through a real worker, the emulator and fake GCS: the 3 × 3
// matrix end to end within the concurrency bound and creation rate, a failed segment and its retry,
// PARTIALLY_SUCCEEDED per policy, fail-fast, a parent cancelled mid-run, and model-ready release.
import { randomInt } from 'node:crypto';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { runCost } from '../../client/cost';
import { startPredictionRun } from '../../client/prediction';
import { startTrainingRun } from '../../client/training';
import { pricesOnce } from '../../config/prices';
import { predictionProgressQuery } from '../../contracts';
import { peakConcurrency } from '../../emulators/vertex-ai/control-client';
import { maybeSaveHistory } from '../helpers/histories';
import type { IsolatedProject } from '../helpers/isolation';
import { projectWith, trainsAndPredicts } from '../helpers/pipelines';
import { batchJobs, seedPredictionInputs, segmentOf, writtenSummary } from '../helpers/prediction-steps';
import { withWorker, type WorkerContext } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { emulatorControl } from '../helpers/vertex';

jest.setTimeout(180_000);

const control = emulatorControl();
const ENV = 'predict';
/** Countries × SNS of `predicted` and `predicted-strict`: 3 × 3. */
const BY_THREE = { countries: ['JP', 'US', 'BR'], sns: ['instagram', 'youtube', 'tiktok'] };
// Creates at 30 a minute (one every 2 s): the pacing test measures it, and fail-fast's first
// failure comes before a third create could.
const paced = { createsPerMinute: 30 };
// Each test in a Vertex project of its own (its champion, jobs, call log and rules are its alone),
// with three pipelines in `predict`, each trained on the KFP fixture and predicting 2 jobs at once:
// `predicted` counts a PARTIALLY_SUCCEEDED job as succeeded and lets the other segments finish;
// `predicted-strict` counts it as failed, and its first failure cancels the rest; `predicted-fresh`
// (JP × instagram, tiktok) needs a model registered within the hour, waits up to 5 min for one, and
// a model-ready starts it.
let iso: IsolatedProject;
beforeEach(() => {
  iso = projectWith(
    {
      predicted: trainsAndPredicts(BY_THREE, paced),
      'predicted-strict': trainsAndPredicts(BY_THREE, {
        ...paced,
        onFailure: 'fail-fast',
        partiallySucceeded: 'failed',
      }),
      'predicted-fresh': trainsAndPredicts(
        { countries: ['JP'], sns: ['instagram', 'tiktok'] },
        { ...paced, model: { maxAge: '1h', waitTimeout: '5m' }, startOnModelReady: true },
      ),
    },
    ENV,
  );
});
afterEach(() => iso.cleanup());
const inProject = <R>(fn: (ctx: WorkerContext) => Promise<R>) => withWorker(fn, { project: iso });
const MATRIX = [
  'br-instagram',
  'br-tiktok',
  'br-youtube',
  'jp-instagram',
  'jp-tiktok',
  'jp-youtube',
  'us-instagram',
  'us-tiktok',
  'us-youtube',
];
const year = randomInt(30, 99);
let day = 0;
const nextPartition = () => `20${year}-0${1 + Math.floor(day / 28)}-${String(1 + (day++ % 28)).padStart(2, '0')}`;

/** Three rows per segment: the predictions are checked row by row. */
const seedInputs = (ctx: WorkerContext, pipeline: string, partition: string, segments = MATRIX) =>
  seedPredictionInputs(ctx.storage, pipeline, partition, segments, (s) =>
    [1, 2, 3].map((i) => ({ user: `${s}-${i}`, followers: i * 100 })),
  );

async function champion(ctx: WorkerContext, pipeline: string) {
  const run = await startTrainingRun(
    ctx.client,
    iso.config,
    { pipeline, environment: ENV, partition: nextPartition(), assumeDataReady: true },
    { taskQueue: ctx.taskQueue },
  );
  const r = await run.result();
  expect(r.model?.aliases).toContain('champion');
  return r.model!;
}

const predict = (ctx: WorkerContext, pipeline: string, partition: string, more: { retryFailed?: boolean } = {}) =>
  startPredictionRun(
    ctx.client,
    iso.config,
    { pipeline, environment: ENV, partition, ...more },
    { taskQueue: ctx.taskQueue },
  );
/** Scripts this test's batch jobs whose labels match (every one: `{}`), the first `times` of them if given. */
const scriptJobs = (
  labels: Record<string, string>,
  script: Parameters<typeof control.addRule>[0]['script'],
  times?: number,
) =>
  control.addRule({
    match: { kind: 'batchPredictionJob', project: iso.project, ...(Object.keys(labels).length ? { labels } : {}) },
    script,
    ...(times ? { times } : {}),
  });
const jobsOf = (pipeline: string, partition: string) =>
  batchJobs(control, { 'ct-pipeline': pipeline, 'ct-partition': partition }, iso.project);

test('3 × 3 end to end: outputs in GCS, exactly 2 jobs at once at the peak, summary returned and written', async () => {
  await inProject(async (ctx) => {
    const model = await champion(ctx, 'predicted');
    const partition = nextPartition();
    await seedInputs(ctx, 'predicted', partition);
    // Jobs run 8 s: creates paced 2 s apart alone would have 3 or more alive at once, so the window's bound shows.
    await scriptJobs(
      { 'ct-partition': partition, 'ct-country': 'us', 'ct-sns': 'tiktok' },
      { outcome: 'PARTIALLY_SUCCEEDED', failedInstances: 1, runningMs: 8_000 },
    );
    await scriptJobs({}, { runningMs: 8_000 });
    // One segment's job loses an instance: PARTIALLY_SUCCEEDED counts as succeeded by this pipeline's policy.
    const handle = await predict(ctx, 'predicted', partition);
    const summary = await handle.result();
    await maybeSaveHistory(handle, 'prediction-run-succeeded');
    await maybeSaveHistory(
      ctx.client.workflow.getHandle(`prediction:${ENV}:predicted:${partition}:us-tiktok`),
      'prediction-segment-partial',
    );

    expect(summary).toMatchObject({
      verdict: 'succeeded',
      progress: { total: 9, succeeded: 9, failed: 0, pending: 0, running: 0 },
    });
    expect(summary.segments.map((s) => s.segment)).toEqual(MATRIX);
    for (const s of summary.segments) expect(s.model).toBe(`${model.name}@${model.version}`);
    const partial = summary.segments.find((s) => s.segment === 'us-tiktok')!;
    expect(partial).toMatchObject({
      outcome: 'succeeded',
      state: 'PARTIALLY_SUCCEEDED',
      counts: { successful: 2, failed: 1 },
    });
    expect(summary.segments.find((s) => s.segment === 'jp-instagram')).toMatchObject({
      state: 'SUCCEEDED',
      counts: { successful: 3, failed: 0 },
    });

    // Predictions landed per segment, under the segment's own output prefix.
    const jp = summary.segments.find((s) => s.segment === 'jp-instagram')!;
    expect(jp.outputUri).toMatch(
      new RegExp(`^gs://ct-test-bucket/predict-out/predicted/${partition}/JP-instagram/prediction-`),
    );
    const [predictions] = await ctx.storage
      .bucket('ct-test-bucket')
      .file(`${jp.outputUri!.replace('gs://ct-test-bucket/', '')}/predictions_0001.jsonl`)
      .download();
    expect(
      predictions
        .toString()
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { instance: { user: string } }).instance.user),
    ).toEqual(['jp-instagram-1', 'jp-instagram-2', 'jp-instagram-3']);
    expect((await writtenSummary(ctx.storage, 'predicted', partition)).segments).toEqual(summary.segments);

    // What Vertex saw: one job per segment, maxConcurrentJobs alive at the peak and never more.
    const jobs = await jobsOf('predicted', partition);
    expect(jobs.map(segmentOf).sort()).toEqual(MATRIX);
    expect(peakConcurrency(jobs)).toBe(2);
  });
});

test('creates are paced by the quota (30/min), not by free slots: 9 short jobs take ≥ 8 create intervals', async () => {
  await inProject(async (ctx) => {
    await champion(ctx, 'predicted');
    const partition = nextPartition();
    await seedInputs(ctx, 'predicted', partition);
    // 0.3 s jobs: with 2 slots and no pacing all nine would be created within a few seconds.
    await scriptJobs({}, { runningMs: 300 });
    const handle = await predict(ctx, 'predicted', partition);
    expect(await handle.result()).toMatchObject({ verdict: 'succeeded', progress: { succeeded: 9 } });
    const creates = (await control.calls({ method: 'CreateBatchPredictionJob', project: iso.project })).map((c) =>
      Date.parse(c.time),
    );
    expect(creates).toHaveLength(9);
    // The server's limiter lets the first create of a burst through at once; 8 more at 30/min take ≥ 16 s.
    expect(creates.at(-1)! - creates[0]!).toBeGreaterThanOrEqual(8 * 2_000 * 0.85);
  });
});

test('one segment FAILED and one PAUSED (cancelled on Vertex): the others finish, the summary says so, and retry-failed runs those two only', async () => {
  await inProject(async (ctx) => {
    await champion(ctx, 'predicted');
    const partition = nextPartition();
    await seedInputs(ctx, 'predicted', partition);
    await scriptJobs(
      { 'ct-partition': partition, 'ct-country': 'br', 'ct-sns': 'youtube' },
      { outcome: 'FAILED', error: { code: 13, message: 'Internal error in the prediction container.' } },
      1,
    );
    await scriptJobs({ 'ct-partition': partition, 'ct-country': 'us', 'ct-sns': 'tiktok' }, { outcome: 'PAUSED' }, 1);
    const first = await predict(ctx, 'predicted', partition);
    const summary = await first.result();
    expect(summary).toMatchObject({ verdict: 'partial', progress: { total: 9, succeeded: 7, failed: 2 } });
    const failed = summary.segments
      .filter((s) => s.outcome === 'failed')
      .sort((a, b) => a.segment.localeCompare(b.segment));
    expect(failed).toMatchObject([
      { segment: 'br-youtube', state: 'FAILED' },
      { segment: 'us-tiktok', state: 'PAUSED' },
    ]);
    expect(failed[0]!.error).toMatch(
      /^br-youtube: BatchPredictionJob \d+ ended FAILED: Internal error in the prediction container\.$/,
    );
    expect(failed[0]!.job).toMatch(/\/batchPredictionJobs\/\d+$/);
    // A paused job still holds its resources: the segment cancelled it before it ended.
    const paused = (await jobsOf('predicted', partition)).find((j) => j.name === failed[1]!.job);
    expect(paused).toMatchObject({ cancelRequested: true });
    // The run's cost has its 9 segments, the 2 failed ones included (their cost rides in their
    // failures' details), as `ct cost` reads them from the segments' histories.
    const cost = await runCost(ctx.client, first.workflowId, pricesOnce());
    expect(summary.cost!.children).toEqual({ runs: 9, actions: cost.children!.actions, usd: cost.children!.usd });

    // A second plain start is refused; --retry-failed re-runs only those two and carries the rest over.
    await expect(predict(ctx, 'predicted', partition)).rejects.toThrow(/already ran; pass --retry-failed/);
    const retry = await predict(ctx, 'predicted', partition, { retryFailed: true });
    const second = await retry.result();
    expect(second).toMatchObject({ verdict: 'succeeded', progress: { total: 9, succeeded: 2, reused: 7, failed: 0 } });
    expect(second.segments.find((s) => s.segment === 'br-youtube')).toMatchObject({
      outcome: 'succeeded',
      state: 'SUCCEEDED',
    });
    const jobs = await jobsOf('predicted', partition);
    expect(jobs.map(segmentOf).sort()).toEqual([...MATRIX, 'br-youtube', 'us-tiktok'].sort()); // a new job for each
  });
});

test('fail-fast: the first failure (a PARTIALLY_SUCCEEDED job, by policy) cancels the rest, and the run fails with the summary', async () => {
  await inProject(async (ctx) => {
    await champion(ctx, 'predicted-strict');
    const partition = nextPartition();
    await seedInputs(ctx, 'predicted-strict', partition);
    await scriptJobs(
      { 'ct-partition': partition, 'ct-pipeline': 'predicted-strict', 'ct-country': 'jp', 'ct-sns': 'instagram' },
      { outcome: 'PARTIALLY_SUCCEEDED', failedInstances: 1, runningMs: 300 },
    );
    await scriptJobs({ 'ct-partition': partition, 'ct-pipeline': 'predicted-strict' }, { runningMs: 20_000 });
    const handle = await predict(ctx, 'predicted-strict', partition);
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.message).toMatch(
      /^fail-fast: jp-instagram failed \(jp-instagram: BatchPredictionJob \d+ ended PARTIALLY_SUCCEEDED/,
    );
    const summary = await writtenSummary(ctx.storage, 'predicted-strict', partition);
    expect(summary.verdict).toBe('failed');
    // jp-instagram (first in the matrix) failed; jp-youtube (second) was running and was cancelled; 7 never started.
    expect(summary.progress).toMatchObject({ total: 9, failed: 1, succeeded: 0, cancelled: 8 });
    expect(
      (await jobsOf('predicted-strict', partition))
        .map((j) => [segmentOf(j), j.state.replace('JOB_STATE_', '')])
        .sort(),
    ).toEqual([
      ['jp-instagram', 'PARTIALLY_SUCCEEDED'],
      ['jp-youtube', 'CANCELLED'],
    ]);
  });
});

test('parent cancelled mid-run: every in-flight Vertex job is cancelled, children end Cancelled (not terminated)', async () => {
  await inProject(async (ctx) => {
    await champion(ctx, 'predicted');
    const partition = nextPartition();
    await seedInputs(ctx, 'predicted', partition);
    await scriptJobs({ 'ct-partition': partition }, { holdIn: 'RUNNING' });
    const handle = await predict(ctx, 'predicted', partition);
    await eventually(
      async () =>
        (await jobsOf('predicted', partition)).filter((j) => j.state === 'JOB_STATE_RUNNING' || j.state === 'RUNNING')
          .length === 2
          ? true
          : undefined,
      60_000,
    );
    expect(await handle.query(predictionProgressQuery)).toMatchObject({ total: 9, running: 2, pending: 7 });
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const jobs = await jobsOf('predicted', partition);
    expect(jobs).toHaveLength(2);
    expect(jobs.map((j) => j.state.replace('JOB_STATE_', ''))).toEqual(['CANCELLED', 'CANCELLED']);
    for (const j of jobs) {
      const child = await ctx.client.workflow
        .getHandle(`prediction:${ENV}:predicted:${partition}:${segmentOf(j)}`)
        .describe();
      expect(child.status.name).toBe('CANCELLED');
    }
    // The children are findable by country and SNS.
    const found = await eventually(async () => {
      const ids: string[] = [];
      for await (const w of ctx.client.workflow.list({
        query: `partition = "${partition}" AND country = "${jobs[0]!.labels['ct-country']!.toUpperCase()}" AND sns = "${jobs[0]!.labels['ct-sns']}"`,
      }))
        ids.push(w.workflowId);
      return ids.length ? ids : undefined;
    });
    expect(found).toEqual([`prediction:${ENV}:predicted:${partition}:${segmentOf(jobs[0]!)}`]);
  });
});

test("a prediction run that needs a fresh model waits, and a training run's model-ready releases it (and attaches to it)", async () => {
  await inProject(async (ctx) => {
    const partition = nextPartition();
    await seedInputs(ctx, 'predicted-fresh', partition, ['jp-instagram', 'jp-tiktok']);
    const prediction = await predict(ctx, 'predicted-fresh', partition);
    // Both children look at the registry (no model yet) and wait, holding no Vertex job.
    await eventually(async () => {
      let n = 0;
      for await (const _ of ctx.client.workflow.list({
        query: `awaitingModel = "${ENV}/predicted-fresh/all" AND partition = "${partition}" AND ExecutionStatus = "Running"`,
      }))
        n++;
      return n === 2 ? true : undefined;
    }, 30_000);
    expect(await jobsOf('predicted-fresh', partition)).toEqual([]);

    const training = await startTrainingRun(
      ctx.client,
      iso.config,
      { pipeline: 'predicted-fresh', environment: ENV, partition, assumeDataReady: true },
      { taskQueue: ctx.taskQueue },
    );
    const trained = await training.result();
    expect(trained.model).toMatchObject({ predictionStarted: prediction.workflowId });
    expect(trained.model!.consumersTold).toBe(2);
    const summary = await prediction.result();
    expect(summary).toMatchObject({ verdict: 'succeeded', progress: { succeeded: 2 } });
    for (const s of summary.segments) expect(s.model).toBe(`${trained.model!.name}@${trained.model!.version}`);
  });
});
