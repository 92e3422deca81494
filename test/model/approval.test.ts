// Promotion after a person approves: approve, reject, silence (reject or promote), decisions the
// run refuses, and a cancel while it waits. Real worker, emulator (ModelService) and fake GCS.
import { CancelledFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { decideCandidate } from '../../client/model';
import { startTrainingRun, TrainingRequestError } from '../../client/training';
import { trainingStatusQuery, type TrainingPhase } from '../../contracts';
import type { trainingRun } from '../../workflows';
import { maybeSaveHistory } from '../helpers/histories';
import { uniquePartition, type IsolatedProject } from '../helpers/isolation';
import { aucGate, dailyData, kfpTraining, modelRegistry, projectWith, type PipelineSpec } from '../helpers/pipelines';
import { withWorker as withAnyWorker, type WorkerContext } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { emulatorControl, vertexClients } from '../helpers/vertex';

jest.setTimeout(90_000);

const control = emulatorControl();
const clients = vertexClients();
afterAll(() => clients.close());

/** Trained on the KFP fixture; promoted to champion only when a person approves, or after `timeout` of silence, as `onTimeout` says. */
const approval = (timeout: string, onTimeout: 'reject' | 'promote', gate = true): PipelineSpec => ({
  data: dailyData(['reviewed_data']),
  training: kfpTraining,
  model: {
    ...(gate ? { thresholds: aucGate } : {}),
    registry: modelRegistry,
    promotion: { mode: 'approval', timeout, onTimeout },
  },
});
// Each test in a Vertex project of its own, environment `models`.
let iso: IsolatedProject;
beforeEach(() => {
  iso = projectWith(
    {
      reviewed: approval('1h', 'reject'),
      'silence-rejects': approval('2s', 'reject', false),
      'silence-promotes': approval('2s', 'promote', false),
    },
    'models',
  );
});
afterEach(() => iso.cleanup());
const withWorker = <R>(fn: (ctx: WorkerContext) => Promise<R>) => withAnyWorker(fn, { project: iso });

const partitionOf = () => uniquePartition('daily');

async function train(ctx: WorkerContext, pipeline: string, partition: string, auc = 0.9) {
  await control.addRule({
    match: { project: ctx.project, labels: { 'ct-partition': partition, 'ct-pipeline': pipeline } },
    script: { metrics: { auc } },
  });
  return startTrainingRun(
    ctx.client,
    iso.config,
    { pipeline, environment: 'models', partition, assumeDataReady: true },
    { taskQueue: ctx.taskQueue },
  );
}

const reached = (handle: WorkflowHandle<typeof trainingRun>, phase: TrainingPhase) =>
  eventually(async () => {
    const status = await handle.query(trainingStatusQuery);
    return status.phase === phase ? status : undefined;
  }, 30_000);

/** Version id → its aliases, through the real client. */
async function aliases(ctx: WorkerContext, pipeline: string): Promise<Record<string, string[]>> {
  try {
    const [versions] = await clients.models.listModelVersions({
      name: `projects/${ctx.project}/locations/us-central1/models/${pipeline}-models`,
    });
    return Object.fromEntries(versions.map((v) => [v.versionId!, [...(v.versionAliases ?? [])].sort()]));
  } catch (err) {
    if ((err as { code?: number }).code === 5) return {}; // no version yet
    throw err;
  }
}

test('approve: the candidate waits as `candidate`, an approval promotes it; a second approve is refused with the reason', async () => {
  await withWorker(async (ctx) => {
    const partition = partitionOf();
    const run = { pipeline: 'reviewed', environment: 'models', partition };
    const handle = await train(ctx, 'reviewed', partition);

    const waiting = await reached(handle, 'awaiting-approval');
    expect(waiting.gate).toMatchObject({
      passed: true,
      checks: [{ check: 'auc >= 0.8', candidate: 0.9, against: 0.8, passed: true }],
    });
    expect(waiting.model!.aliases).toEqual(['candidate']);
    expect(waiting.model!.consoleUrl).toContain(
      `/models/reviewed-models/versions/${waiting.model!.version}?project=${ctx.project}`,
    );
    expect((await aliases(ctx, 'reviewed'))[waiting.model!.version]).not.toContain('champion');
    // The UI's current details show the verdict, the numbers and the version's console link.
    const meta = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
    expect(meta.currentDetails).toContain('**Waiting for approval**');
    expect(meta.currentDetails).toContain('| auc >= 0.8 | 0.9 | 0.8 | ok |');
    expect(meta.currentDetails).toContain(`[open in the Model Registry](${waiting.model!.consoleUrl})`);

    const ack = await decideCandidate(ctx.client, iso.config, run, 'approve', {
      by: 'alice',
      reason: 'looks good on JP',
    });
    expect(ack).toEqual({
      workflowId: `training:models:reviewed:all:${partition}`,
      decision: 'approved',
      modelVersion: `${waiting.model!.name}@${waiting.model!.version}`,
    });
    expect(waiting.model!.name).toMatch(/^projects\/[0-9]+\/locations\/us-central1\/models\/reviewed-models$/);
    await expect(decideCandidate(ctx.client, iso.config, run, 'approve', { by: 'bob' })).rejects.toThrow(
      /approve refused: run training:models:reviewed:all:\S+ (was already approved by alice at |has finished: succeeded; its candidate was approved by alice)/,
    );

    const result = await handle.result();
    await maybeSaveHistory(handle, 'training-run-approved');
    expect(result).toMatchObject({
      status: 'succeeded',
      approval: { decision: 'approved', by: 'alice', reason: 'looks good on JP' },
      model: { aliases: ['candidate', 'champion'] },
    });
    expect((await aliases(ctx, 'reviewed'))[result.model!.version]).toEqual(
      expect.arrayContaining(['candidate', 'champion']),
    );
    // Finished: nothing is waiting any more.
    await expect(decideCandidate(ctx.client, iso.config, run, 'reject', { by: 'bob', reason: 'late' })).rejects.toThrow(
      /reject refused: run training:models:reviewed:all:\S+ has finished: succeeded; its candidate was approved by alice at /,
    );
  });
});

test('reject: champion stays where it was; the result says who rejected and why; a reject without a reason is refused', async () => {
  await withWorker(async (ctx) => {
    const partition = partitionOf();
    const run = { pipeline: 'reviewed', environment: 'models', partition };
    const handle = await train(ctx, 'reviewed', partition);
    const waiting = await reached(handle, 'awaiting-approval');
    const before = await aliases(ctx, 'reviewed');

    await expect(decideCandidate(ctx.client, iso.config, run, 'reject', { by: 'carol' })).rejects.toThrow(
      'a reject must say why (--reason)',
    );
    await expect(decideCandidate(ctx.client, iso.config, run, 'approve', { by: '  ' })).rejects.toThrow(
      /say who decides/,
    );
    await decideCandidate(ctx.client, iso.config, run, 'reject', { by: 'carol', reason: 'drift in US traffic' });

    const result = await handle.result();
    expect(result).toMatchObject({
      status: 'rejected',
      reason: 'rejected by carol: drift in US traffic',
      approval: { decision: 'rejected', by: 'carol' },
      model: { version: waiting.model!.version, aliases: ['candidate'] },
    });
    expect(Object.entries(await aliases(ctx, 'reviewed')).filter(([, a]) => a.includes('champion'))).toEqual(
      Object.entries(before).filter(([, a]) => a.includes('champion')),
    );
  });
});

test('an approve for a run that is not waiting for approval is refused with its phase', async () => {
  await withWorker(async (ctx) => {
    const partition = partitionOf();
    await control.addRule({
      match: { project: ctx.project, labels: { 'ct-partition': partition } },
      script: { holdIn: 'RUNNING' },
    });
    const handle = await train(ctx, 'reviewed', partition);
    await reached(handle, 'running');
    await expect(
      decideCandidate(ctx.client, iso.config, { pipeline: 'reviewed', environment: 'models', partition }, 'approve', {
        by: 'alice',
      }),
    ).rejects.toThrow(
      /approve refused: run training:models:reviewed:all:\S+ is not waiting for approval: it is running/,
    );
    await handle.cancel();
  });
});

test('cancel while waiting for approval: the run ends cancelled and no alias moves', async () => {
  await withWorker(async (ctx) => {
    const partition = partitionOf();
    const handle = await train(ctx, 'reviewed', partition);
    const waiting = await reached(handle, 'awaiting-approval');
    const before = await aliases(ctx, 'reviewed');
    await handle.cancel();
    const err = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(await aliases(ctx, 'reviewed')).toEqual(before);
    // Vertex gives a model's first version `default` itself; nobody made it champion.
    expect(before[waiting.model!.version]).toEqual(['candidate', 'default']);
    expect((await handle.query(trainingStatusQuery)).phase).toBe('cancelled');
    // The training job had SUCCEEDED before the wait: the cancel has no Vertex job to stop.
    expect((await control.calls({ project: ctx.project })).filter((c) => c.method.startsWith('Cancel'))).toEqual([]);
  });
});

test('silence: after the timeout one pipeline rejects and the other promotes, as configured', async () => {
  await withWorker(async (ctx) => {
    const [rejects, promotes] = await Promise.all([
      train(ctx, 'silence-rejects', partitionOf()),
      train(ctx, 'silence-promotes', partitionOf()),
    ]);
    const [r, p] = await Promise.all([rejects.result(), promotes.result()]);
    expect(r).toMatchObject({
      status: 'rejected',
      approval: { decision: 'timed-out' },
      model: { aliases: ['candidate'] },
    });
    expect(r.reason).toBe('rejected: no decision within 2s; the config says reject');
    expect(p).toMatchObject({
      status: 'succeeded',
      approval: { decision: 'timed-out' },
      model: { aliases: ['candidate', 'champion'] },
    });
    expect((await aliases(ctx, 'silence-promotes'))[p.model!.version]).toContain('champion');
    expect(Object.values(await aliases(ctx, 'silence-rejects')).flat()).not.toContain('champion');
  });
});

test('bad decisions are refused before they reach a run', async () => {
  await withWorker(async (ctx) => {
    await expect(
      decideCandidate(
        ctx.client,
        iso.config,
        { pipeline: 'nope', environment: 'models', partition: '2030-01-01' },
        'approve',
        { by: 'a' },
      ),
    ).rejects.toThrow(TrainingRequestError);
    await expect(
      decideCandidate(
        ctx.client,
        iso.config,
        { pipeline: 'reviewed', environment: 'models', partition: 'yesterday' },
        'approve',
        { by: 'a' },
      ),
    ).rejects.toThrow(/partition "yesterday" is not daily/);
  });
});
