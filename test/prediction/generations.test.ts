// predictionRun across continue-as-new and with one model version per run, through a real worker,
// the emulator and fake GCS. The pipelines here (below) start 2 children per workflow run, so 5
// segments take 3 runs: results, the queue, the progress query, cancel and fail-fast must carry
// across. One model serves every segment: the run pins its version before the fan-out. Each test
// has a Vertex project of its own: its jobs, rules and model are its alone, and every rule it adds
// is bounded by `times` to the jobs it expects.
import { CancelledFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { runCost } from '../../client/cost';
import { startPredictionRun } from '../../client/prediction';
import { pricesOnce } from '../../config/prices';
import {
  costLine,
  modelReadySignal,
  predictionProgressQuery,
  predictionSegmentId,
  type SegmentResult,
} from '../../contracts';
import type { JobView } from '../../emulators/vertex-ai/control-schema';
import type { predictionRun } from '../../workflows';
import { maybeSaveHistory } from '../helpers/histories';
import { withWorker, type WorkerContext } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { emulatorControl, vertexClients } from '../helpers/vertex';
import { uniquePartition, type IsolatedProject } from '../helpers/isolation';
import {
  batchPrediction,
  dailyData,
  kfpTraining,
  modelRegistry,
  projectWith,
  type PipelineSpec,
} from '../helpers/pipelines';
import {
  batchJobs,
  promoteChampion,
  seedPredictionInputs,
  segmentOf,
  stateOf,
  writtenSummary,
} from '../helpers/prediction-steps';
import { expectWithinMicros } from '../helpers/micros';

jest.setTimeout(180_000);

const control = emulatorControl();
const SEGMENTS = ['jp-instagram', 'us-instagram', 'br-instagram', 'de-instagram', 'fr-instagram']; // queue order

/**
 * One model (trained on the KFP fixture, registered as `{pipeline}-{environment}`) predicts the 5
 * segments, 2 jobs at once, 2 children per workflow run before it continues as new.
 */
const fiveSegments = (prediction: Partial<NonNullable<PipelineSpec['prediction']>> = {}): PipelineSpec => ({
  data: dailyData(['generations_data']),
  training: kfpTraining,
  model: { registry: modelRegistry },
  prediction: batchPrediction(
    { countries: ['JP', 'US', 'BR', 'DE', 'FR'], sns: ['instagram'] },
    { childrenPerRun: 2, ...prediction },
  ),
});

// The test's own project, with `pipeline` in `environment`; the models promoted here are the ones its worker finds.
let iso: IsolatedProject;
async function inProject<R>(
  pipeline: string,
  environment: string,
  spec: PipelineSpec,
  fn: (ctx: WorkerContext) => Promise<R>,
): Promise<R> {
  iso = projectWith({ [pipeline]: spec }, environment);
  try {
    return await withWorker(fn, { project: iso });
  } finally {
    await iso.cleanup();
  }
}
const partition = uniquePartition('daily');
let vertex: ReturnType<typeof vertexClients>;
beforeAll(() => (vertex = vertexClients()));
afterAll(() => vertex.close());

const projectOf = (pipeline: string, environment: string) =>
  iso.config.pipelines[pipeline]!.environments[environment]!.project;
const modelIdOf = (pipeline: string, environment: string) => `${pipeline}-${environment}`;

/** Registers a new version of the environment's model and makes it the champion: `model@version`. */
const promote = (pipeline: string, environment: string) =>
  promoteChampion(vertex, projectOf(pipeline, environment), modelIdOf(pipeline, environment));

const jobsOf = (pipeline: string, environment: string) =>
  batchJobs(control, { 'ct-pipeline': pipeline, 'ct-environment': environment, 'ct-partition': partition });
/** Each job's state by its segment (creates within a generation race each other); a segment with two jobs fails. */
async function outcomes(pipeline: string, environment: string) {
  const jobs = await jobsOf(pipeline, environment);
  expect(new Set(jobs.map(segmentOf)).size).toBe(jobs.length);
  return Object.fromEntries(jobs.map((j) => [segmentOf(j), stateOf(j)]));
}
const running = async (pipeline: string, environment: string) =>
  (await jobsOf(pipeline, environment)).filter((j) => stateOf(j) === 'RUNNING');

/** Waits until exactly these segments' jobs are held RUNNING (and no other job is). */
async function heldRunning(pipeline: string, environment: string, segments: string[]): Promise<JobView[]> {
  return eventually(async () => {
    const r = await running(pipeline, environment);
    return r.map(segmentOf).sort().join() === [...segments].sort().join() ? r : undefined;
  }, 60_000);
}

/** Run ids of the workflow's chain so far, oldest first: one per generation. */
async function generationsOf(ctx: WorkerContext, handle: WorkflowHandle<typeof predictionRun>) {
  const runs: { runId: string; status: string; startTime: Date }[] = [];
  for await (const w of ctx.client.workflow.list({ query: `WorkflowId = "${handle.workflowId}"` }))
    runs.push({ runId: w.runId, status: w.status.name, startTime: w.startTime });
  return runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
}

/** Waits until visibility shows the workflow's chain with these statuses (any order): it lags the runs themselves. */
const chainShows = (ctx: WorkerContext, handle: WorkflowHandle<typeof predictionRun>, statuses: string[]) =>
  eventually(async () =>
    (await generationsOf(ctx, handle))
      .map((r) => r.status)
      .sort()
      .join() === [...statuses].sort().join()
      ? true
      : undefined,
  );

/** Every segment's batch job of the environment's project held RUNNING (`jobs` of them) until the test advances it. */
const holdJobs = (pipeline: string, environment: string, jobs: number) =>
  control.addRule({
    match: { kind: 'batchPredictionJob', project: projectOf(pipeline, environment) },
    script: { holdIn: 'RUNNING' },
    times: jobs,
  });

const predict = (ctx: WorkerContext, input: { pipeline: string; environment: string; segments?: string[] }) =>
  startPredictionRun(ctx.client, iso.config, { ...input, partition }, { taskQueue: ctx.taskQueue });

/** The model each job was asked to predict with, as Vertex holds it. */
const modelsOf = (jobs: JobView[]) =>
  Promise.all(jobs.map(async (j) => (await vertex.jobs.getBatchPredictionJob({ name: j.name }))[0].model));

test('prediction.childrenPerRun: 250 unless set, and a value outside 1–1,000 is refused naming the field', () => {
  const unset = projectWith({ generations: fiveSegments({ childrenPerRun: undefined }) });
  expect(unset.config.pipelines.generations!.prediction!.childrenPerRun).toBe(250);
  for (const bad of [0, 1001, 2.5]) {
    expect(() => projectWith({ generations: fiveSegments({ childrenPerRun: bad }) })).toThrow(
      /pipelines\.generations\.prediction\.childrenPerRun: /,
    );
  }
});

test('5 segments, 2 per generation: 3 runs, each segment run once, progress and results carried across continue-as-new', async () => {
  const [pipeline, environment] = ['generations', 'gen-results'];
  await inProject(pipeline, environment, fiveSegments(), async (ctx) => {
    const model = await promote(pipeline, environment);
    await seedPredictionInputs(ctx.storage, pipeline, partition, SEGMENTS);
    await holdJobs(pipeline, environment, 5);
    const handle = await predict(ctx, { pipeline, environment });

    // Generation 1 starts the first two segments, no more, even with room for none else anyway.
    for (const j of await heldRunning(pipeline, environment, SEGMENTS.slice(0, 2))) await control.advance(j.name);
    // Generation 2: a new run of the same workflow; it knows what generation 1 did and what is left.
    const gen2 = await heldRunning(pipeline, environment, SEGMENTS.slice(2, 4));
    const progress = await eventually(async () => {
      const p = await handle.query(predictionProgressQuery);
      return p.running === 2 ? p : undefined;
    });
    expect(progress).toMatchObject({ total: 5, succeeded: 2, running: 2, pending: 1, failed: 0, cancelled: 0 });
    await chainShows(ctx, handle, ['CONTINUED_AS_NEW', 'RUNNING']);
    for (const j of gen2) await control.advance(j.name);
    for (const j of await heldRunning(pipeline, environment, SEGMENTS.slice(4))) await control.advance(j.name);

    const summary = await handle.result();
    expect(summary).toMatchObject({
      verdict: 'succeeded',
      generations: 3,
      model,
      progress: { total: 5, succeeded: 5, running: 0, pending: 0, failed: 0 },
    });
    expect(summary.segments.map((s) => s.segment)).toEqual([...SEGMENTS].sort());
    for (const s of summary.segments) expect(s).toMatchObject({ outcome: 'succeeded', state: 'SUCCEEDED', model });
    // The result adds what the run cost (known once it has written the summary).
    expect({ ...(await writtenSummary(ctx.storage, pipeline, partition)), cost: summary.cost }).toEqual(summary);
    // One job per segment on Vertex, never a second: no segment ran twice across the generations.
    expect((await jobsOf(pipeline, environment)).map(segmentOf).sort()).toEqual([...SEGMENTS].sort());
    const chain = await eventually(async () => {
      const c = await generationsOf(ctx, handle);
      return c.at(-1)?.status === 'COMPLETED' ? c : undefined;
    });
    expect(chain.map((r) => r.status)).toEqual(['CONTINUED_AS_NEW', 'CONTINUED_AS_NEW', 'COMPLETED']);
    // What the run cost: its own actions over its 3 generations (continue-as-new carries the count)
    // are its histories', and its 5 segments' costs, reported in their results, add up to what
    // `ct cost` reads from their histories (every retry here is a watch hand-over, which the watch
    // reports). The summary's segments do not carry them: the parent's history stays small.
    const cost = await runCost(ctx.client, handle.workflowId, pricesOnce());
    expect(summary.cost!.actions).toEqual(cost.actions);
    expect(summary.cost!.children).toEqual({ runs: 5, actions: cost.children!.actions, usd: cost.children!.usd });
    expect(summary.cost!.totalUsd).toBe(cost.totalUsd);
    for (const s of summary.segments) expect(s.cost).toBeUndefined();
    const segment = (await ctx.client.workflow
      .getHandle(predictionSegmentId({ environment, pipeline, partition, segment: SEGMENTS[0]! }))
      .result()) as SegmentResult;
    expect(segment.cost!.vertex.jobs).toEqual([
      expect.objectContaining({ kind: 'batchPredictionJob', state: 'SUCCEEDED', how: '1 × n1-standard-2' }),
    ]);
    const job = segment.cost!.vertex.jobs[0]!;
    expectWithinMicros(job.usd!, 0.10925 * job.hours);
    expect(segment.cost!.vertex.usd).toBeGreaterThan(0);
    const meta = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
    expect(meta.currentDetails).toMatch(/^\*\*Batch prediction\*\*/);
    expect(meta.currentDetails.endsWith(costLine(summary.cost!))).toBe(true);
    // Generation 1 (the pin and the continue-as-new) is replayed by test/workflows/replay.test.ts.
    await maybeSaveHistory(handle, 'prediction-run-generation-1', chain[0]!.runId);
  });
});

test('cancel in generation 2: its in-flight jobs are cancelled on Vertex, generation 1 stays succeeded, the rest never start', async () => {
  const [pipeline, environment] = ['generations', 'gen-cancel'];
  await inProject(pipeline, environment, fiveSegments(), async (ctx) => {
    await promote(pipeline, environment);
    await seedPredictionInputs(ctx.storage, pipeline, partition, SEGMENTS);
    await holdJobs(pipeline, environment, 5);
    const handle = await predict(ctx, { pipeline, environment });
    for (const j of await heldRunning(pipeline, environment, SEGMENTS.slice(0, 2))) await control.advance(j.name);
    await heldRunning(pipeline, environment, SEGMENTS.slice(2, 4));
    await chainShows(ctx, handle, ['CONTINUED_AS_NEW', 'RUNNING']);

    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(await outcomes(pipeline, environment)).toEqual({
      'jp-instagram': 'SUCCEEDED',
      'us-instagram': 'SUCCEEDED',
      'br-instagram': 'CANCELLED',
      'de-instagram': 'CANCELLED',
    });
    for (const s of ['br-instagram', 'de-instagram']) {
      expect((await ctx.client.workflow.getHandle(`${handle.workflowId}:${s}`).describe()).status.name).toBe(
        'CANCELLED',
      );
    }
    const summary = await writtenSummary(ctx.storage, pipeline, partition);
    expect(summary).toMatchObject({
      verdict: 'cancelled',
      generations: 2,
      progress: { total: 5, succeeded: 2, cancelled: 3, running: 0, pending: 0 },
    });
    expect(summary.segments.find((s) => s.segment === 'fr-instagram')).toMatchObject({
      outcome: 'cancelled',
      error: 'not started: the run was cancelled',
    });
  });
});

test('fail-fast in generation 2: the failure cancels its sibling, the last generation never starts, the run fails with the whole summary', async () => {
  const [pipeline, environment] = ['generations-strict', 'gen-failfast'];
  await inProject(pipeline, environment, fiveSegments({ onFailure: 'fail-fast' }), async (ctx) => {
    await promote(pipeline, environment);
    await seedPredictionInputs(ctx.storage, pipeline, partition, SEGMENTS);
    const project = projectOf(pipeline, environment);
    await control.addRule({
      match: { kind: 'batchPredictionJob', project, labels: { 'ct-country': 'br' } },
      script: { outcome: 'FAILED', error: { code: 13, message: 'container crashed' }, runningMs: 500 },
      times: 1,
    });
    await control.addRule({
      match: { kind: 'batchPredictionJob', project, labels: { 'ct-country': 'de' } },
      script: { runningMs: 60_000 },
      times: 1,
    });
    const handle = await predict(ctx, { pipeline, environment });
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.message).toMatch(
      /^fail-fast: br-instagram failed \(br-instagram: BatchPredictionJob \d+ ended FAILED: container crashed\)/,
    );
    const summary = await writtenSummary(ctx.storage, pipeline, partition);
    expect(summary).toMatchObject({
      verdict: 'failed',
      generations: 2,
      progress: { total: 5, succeeded: 2, failed: 1, cancelled: 2 },
    });
    expect(summary.segments.find((s) => s.segment === 'fr-instagram')).toMatchObject({
      outcome: 'cancelled',
      error: 'not started: fail-fast stopped the run',
    });
    expect(await outcomes(pipeline, environment)).toEqual({
      'jp-instagram': 'SUCCEEDED',
      'us-instagram': 'SUCCEEDED',
      'br-instagram': 'FAILED',
      'de-instagram': 'CANCELLED',
    });
    await chainShows(ctx, handle, ['CONTINUED_AS_NEW', 'FAILED']);
  });
});

test('one model per run: a champion promoted while segments still queue changes nothing for this run; the summary names the pinned version', async () => {
  const [pipeline, environment] = ['generations', 'gen-pin'];
  await inProject(pipeline, environment, fiveSegments(), async (ctx) => {
    const pinned = await promote(pipeline, environment);
    await seedPredictionInputs(ctx.storage, pipeline, partition, SEGMENTS);
    await holdJobs(pipeline, environment, 5);
    const handle = await predict(ctx, { pipeline, environment });
    const first = await heldRunning(pipeline, environment, SEGMENTS.slice(0, 2));

    // Three segments have not started yet (two of them in later generations): a new champion now.
    const promoted = await promote(pipeline, environment);
    expect(promoted).not.toBe(pinned);
    for (const j of first) await control.advance(j.name);
    for (const j of await heldRunning(pipeline, environment, SEGMENTS.slice(2, 4))) await control.advance(j.name);
    for (const j of await heldRunning(pipeline, environment, SEGMENTS.slice(4))) await control.advance(j.name);
    const summary = await handle.result();

    expect(summary).toMatchObject({ verdict: 'succeeded', generations: 3, model: pinned });
    for (const s of summary.segments) expect(s.model).toBe(pinned);
    // What Vertex was asked to run: every job with the pinned version.
    const jobs = await jobsOf(pipeline, environment);
    expect(jobs).toHaveLength(5);
    expect(await modelsOf(jobs)).toEqual(Array(5).fill(pinned));
  });
});

test('with maxAge and no fresh champion at the start: the version the first segment waited for is pinned for the segments after it', async () => {
  const [pipeline, environment] = ['generations-fresh', 'gen-fresh'];
  const segments = SEGMENTS.slice(0, 3);
  await inProject(
    pipeline,
    environment,
    fiveSegments({ maxConcurrentJobs: 1, model: { maxAge: '1h', waitTimeout: '5m' } }),
    async (ctx) => {
      await seedPredictionInputs(ctx.storage, pipeline, partition, segments);
      await holdJobs(pipeline, environment, 3);
      const handle = await predict(ctx, { pipeline, environment, segments });
      // One at a time: jp-instagram looks at the registry (nothing there) and waits for model-ready.
      const first = ctx.client.workflow.getHandle(`${handle.workflowId}:jp-instagram`);
      await eventually(async () => {
        for await (const _ of ctx.client.workflow.list({
          query: `awaitingModel = "${environment}/${pipeline}/all" AND WorkflowId = "${first.workflowId}"`,
        }))
          return true;
        return undefined;
      }, 30_000);
      const announced = await promote(pipeline, environment);
      const [model, version] = announced.split('@') as [string, string];
      await first.signal(modelReadySignal, {
        environment,
        pipeline,
        segment: null,
        model,
        version,
        modelVersionName: announced,
        aliases: ['champion'],
        metrics: {},
        partition,
        trainedAt: new Date().toISOString(),
      });
      const [job] = await heldRunning(pipeline, environment, ['jp-instagram']);
      // A newer champion, fresh too, before the other segments start (one of them in generation 2).
      expect(await promote(pipeline, environment)).not.toBe(announced);
      await control.advance(job!.name);
      for (const s of segments.slice(1))
        for (const j of await heldRunning(pipeline, environment, [s])) await control.advance(j.name);
      const summary = await handle.result();

      expect(summary).toMatchObject({ verdict: 'succeeded', generations: 2, model: announced });
      expect(summary.segments.map((s) => [s.segment, s.model])).toEqual(
        [...segments].sort().map((s) => [s, announced]),
      );
      const jobs = await jobsOf(pipeline, environment);
      expect(await modelsOf(jobs)).toEqual(Array(3).fill(announced));
    },
  );
});

test('no model: each segment waits its waitTimeout for a fresh one, then fails with the reason; no job is created', async () => {
  const [pipeline, environment] = ['unmodelled', 'nomodel'];
  const segments = ['jp-instagram', 'jp-tiktok'];
  await inProject(
    pipeline,
    environment,
    {
      ...fiveSegments(),
      // No model is ever registered: each segment waits 2 s for a fresh one, then fails with the reason.
      prediction: batchPrediction(
        { countries: ['JP'], sns: ['instagram', 'tiktok'] },
        { model: { maxAge: '1h', waitTimeout: '2s' } },
      ),
    },
    async (ctx) => {
      await seedPredictionInputs(ctx.storage, pipeline, partition, segments);
      const handle = await predict(ctx, { pipeline, environment });
      const summary = await handle.result();
      expect(summary).toMatchObject({ verdict: 'partial', progress: { total: 2, failed: 2, succeeded: 0 } });
      expect(summary.model).toBeUndefined();
      for (const s of summary.segments) {
        expect(s).toMatchObject({
          outcome: 'failed',
          error: `no model to predict ${s.segment} with: there is no champion yet (want one registered in the last 1h)`,
        });
        expect(s.job).toBeUndefined();
        const child = await ctx.client.workflow.getHandle(`${handle.workflowId}:${s.segment}`).describe();
        expect(child.status.name).toBe('FAILED');
        // It waited for its waitTimeout (2 s) before giving up, rather than failing at the first look.
        expect(child.closeTime!.getTime() - child.startTime.getTime()).toBeGreaterThanOrEqual(2_000);
      }
      expect(await jobsOf(pipeline, environment)).toEqual([]);
    },
  );
});

test('segments that fail without a job (no model) still count in the run’s own cost, as ct cost reads them', async () => {
  const [pipeline, environment] = ['unmodelled-cost', 'nomodelcost'];
  const segments = ['jp-instagram', 'jp-tiktok'];
  await inProject(
    pipeline,
    environment,
    {
      ...fiveSegments(),
      // No model, and no maxAge: each segment looks once and fails with NO_MODEL, a failure without details.
      prediction: batchPrediction({ countries: ['JP'], sns: ['instagram', 'tiktok'] }),
    },
    async (ctx) => {
      await seedPredictionInputs(ctx.storage, pipeline, partition, segments);
      const handle = await predict(ctx, { pipeline, environment });
      const summary = await handle.result();
      expect(summary).toMatchObject({ verdict: 'partial', progress: { total: 2, failed: 2 } });
      const cost = await runCost(ctx.client, handle.workflowId, pricesOnce());
      expect(cost.children!.actions).toBeGreaterThan(0);
      expect(summary.cost!.children).toEqual({ runs: 2, actions: cost.children!.actions, usd: cost.children!.usd });
    },
  );
});
