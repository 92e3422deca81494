// Training every segment of a partition with the fan-out machinery: bounded concurrency, canonical
// run ids (a run data-ready already started is reported, not duplicated).
import { runCost } from '../../client/cost';
import { startTrainingFanout, startTrainingRun } from '../../client/training';
import { pricesOnce } from '../../config/prices';
import { maybeSaveHistory } from '../helpers/histories';
import { withWorker as withAnyWorker, type WorkerContext } from '../helpers/temporal';
import { peakConcurrency } from '../../emulators/vertex-ai/control-client';
import { emulatorControl } from '../helpers/vertex';
import { uniquePartition, type IsolatedProject } from '../helpers/isolation';
import {
  customJobTraining,
  kfpTrainingPerSegment,
  monthlyData,
  projectWith,
  snsData,
  snsSegments,
} from '../helpers/pipelines';

jest.setTimeout(120_000);
const control = emulatorControl();
const partitionOf = () => uniquePartition('daily');

// Each test in a Vertex project of its own: `engagement` trains three segments (jp-instagram,
// jp-youtube, us-instagram), two at once; `churn` has no segments.
let iso: IsolatedProject;
let config: IsolatedProject['config'];
beforeEach(() => {
  iso = projectWith({
    engagement: {
      data: snsData,
      training: kfpTrainingPerSegment,
      segments: snsSegments,
      fanOut: { maxConcurrentRuns: 2 },
    },
    churn: { data: monthlyData(['creator_activity']), training: customJobTraining },
  });
  config = iso.config;
});
afterEach(() => iso.cleanup());
const withWorker = <R>(fn: (ctx: WorkerContext) => Promise<R>) => withAnyWorker(fn, { project: iso });

test('every segment trained, never more than fanOut.maxConcurrentRuns Vertex jobs at once', async () => {
  await withWorker(async (ctx) => {
    const partition = partitionOf();
    await control.addRule({
      match: { project: ctx.project, labels: { 'ct-partition': partition } },
      script: { runningMs: 1_500 },
    });
    const handle = await startTrainingFanout(
      ctx.client,
      config,
      { pipeline: 'engagement', environment: 'staging', partition, assumeDataReady: true },
      { taskQueue: ctx.taskQueue },
    );
    const result = await handle.result();
    await maybeSaveHistory(handle, 'training-fanout-succeeded');
    expect(result.verdict).toBe('succeeded');
    expect(result.runs.map((r) => [r.segment, r.outcome, r.workflowId])).toEqual([
      ['jp-instagram', 'succeeded', `training:staging:engagement:jp-instagram:${partition}`],
      ['jp-youtube', 'succeeded', `training:staging:engagement:jp-youtube:${partition}`],
      ['us-instagram', 'succeeded', `training:staging:engagement:us-instagram:${partition}`],
    ]);
    const jobs = await control.jobs({ project: ctx.project, labels: { 'ct-partition': partition } });
    expect(jobs).toHaveLength(3);
    expect(peakConcurrency(jobs)).toBe(2);
    // The fan-out's cost has its 3 training runs' (a PipelineJob's run fee each, and their actions),
    // as `ct cost` reads them from their histories.
    const cost = await runCost(ctx.client, handle.workflowId, pricesOnce());
    expect(result.cost!.children).toEqual({ runs: 3, actions: cost.children!.actions, usd: cost.children!.usd });
    expect(result.cost!.children!.usd).toBeGreaterThan(3 * 0.03);
  });
});

test('a segment whose run data-ready already started is reported, not started twice', async () => {
  await withWorker(async (ctx) => {
    const partition = partitionOf();
    const early = await startTrainingRun(
      ctx.client,
      config,
      { pipeline: 'engagement', environment: 'staging', partition, segment: 'jp-youtube' },
      { taskQueue: ctx.taskQueue },
    );
    const handle = await startTrainingFanout(
      ctx.client,
      config,
      { pipeline: 'engagement', environment: 'staging', partition, assumeDataReady: true },
      { taskQueue: ctx.taskQueue },
    );
    const result = await handle.result();
    expect(result.runs.find((r) => r.segment === 'jp-youtube')).toMatchObject({
      outcome: 'already-started',
      workflowId: early.workflowId,
    });
    expect(result.runs.filter((r) => r.outcome === 'succeeded').map((r) => r.segment)).toEqual([
      'jp-instagram',
      'us-instagram',
    ]);
    await early.cancel();
    await expect(
      startTrainingFanout(ctx.client, config, { pipeline: 'churn', environment: 'staging', partition: '2030-01' }),
    ).rejects.toThrow('pipeline churn has no segments: start its one run with ct train');
  });
});

test('a segment whose run data-ready already started is no child of the fan-out: its cost and `ct cost` count only the runs it started', async () => {
  await withWorker(async (ctx) => {
    const partition = partitionOf();
    const early = await startTrainingRun(
      ctx.client,
      config,
      { pipeline: 'engagement', environment: 'staging', partition, segment: 'jp-youtube', assumeDataReady: true },
      { taskQueue: ctx.taskQueue },
    );
    await early.result();
    const handle = await startTrainingFanout(
      ctx.client,
      config,
      { pipeline: 'engagement', environment: 'staging', partition, assumeDataReady: true },
      { taskQueue: ctx.taskQueue },
    );
    const result = await handle.result();
    expect(result.runs.map((r) => [r.segment, r.outcome])).toEqual([
      ['jp-instagram', 'succeeded'],
      ['jp-youtube', 'already-started'],
      ['us-instagram', 'succeeded'],
    ]);
    const cost = await runCost(ctx.client, handle.workflowId, pricesOnce());
    expect(cost.children).toMatchObject({ runs: 2 });
    expect(result.cost!.children).toEqual({ runs: 2, actions: cost.children!.actions, usd: cost.children!.usd });
  });
});

test('a fan-out prices its own actions, as ct cost does: its total is its actions and its runs', async () => {
  await withWorker(async (ctx) => {
    const partition = partitionOf();
    const handle = await startTrainingFanout(
      ctx.client,
      config,
      { pipeline: 'engagement', environment: 'staging', partition, segments: ['jp-instagram'], assumeDataReady: true },
      { taskQueue: ctx.taskQueue },
    );
    const result = await handle.result();
    const cost = await runCost(ctx.client, handle.workflowId, pricesOnce());
    expect(result.cost!.temporalUsd).toBeGreaterThan(0);
    expect(result.cost).toMatchObject({ temporalUsd: cost.temporalUsd, totalUsd: cost.totalUsd, currency: 'USD' });
  });
});
