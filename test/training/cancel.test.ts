// Cancel in every phase of every attempt: whatever the run is doing, the Vertex job it owns at that
// moment is cancelled on Vertex (once), jobs that already ended are left alone, and the run ends
// Cancelled. Each test has a Vertex project of its own (rules, jobs, models) and removes its rules.
import { startTrainingRun } from '../../client/training';
import { trainingStatusQuery } from '../../contracts';
import { uniquePartition, type IsolatedProject } from '../helpers/isolation';
import { aucGate, dailyData, kfpTraining, modelRegistry, projectWith } from '../helpers/pipelines';
import { withWorker, type WorkerContext } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { expectCancelled, statusUntil as until } from '../helpers/training-steps';
import { cancelsByJob, emulatorControl, loseNextAnswer, untilJobState, vertexClients } from '../helpers/vertex';

jest.setTimeout(90_000);
const control = emulatorControl();

// Each test in a Vertex project of its own, with two pipelines: `trainer` (a PipelineJob, two
// attempts) and `scored` (one attempt, then the model step: gate, registry version, champion).
let iso: IsolatedProject;
beforeEach(() => {
  iso = projectWith({
    trainer: { data: dailyData(['features']), training: kfpTraining, retry: { maxAttempts: 2 } },
    scored: {
      data: dailyData(['features']),
      training: kfpTraining,
      model: { thresholds: aucGate, registry: modelRegistry },
    },
  });
});
afterEach(() => iso.cleanup());

const start = (ctx: WorkerContext, pipeline: 'trainer' | 'scored') =>
  startTrainingRun(
    ctx.client,
    iso.config,
    { pipeline, environment: 'staging', partition: uniquePartition(), assumeDataReady: true },
    { taskQueue: ctx.taskQueue },
  );
const inProject = <R>(fn: (ctx: WorkerContext) => Promise<R>) => withWorker(fn, { project: iso });
const cancels = () => cancelsByJob(control, iso.project);

test('cancel while the first attempt is being submitted: the job it made is cancelled once the submit returns', async () => {
  await inProject(async (ctx) => {
    // The job is stored at once; the answer comes 3 s later as UNAVAILABLE, and the retry finds the job.
    await loseNextAnswer(control, iso.project, 'CreatePipelineJob', 3_000);
    await control.addRule({ match: { project: iso.project }, script: { holdIn: 'RUNNING' } });
    const run = await start(ctx, 'trainer');
    await until(run, (s) => s.phase === 'submitting');
    await eventually(async () => ((await control.jobs({ project: iso.project })).length === 1 ? true : undefined));
    await run.cancel();
    await expectCancelled(run);
    const jobs = await control.jobs({ project: iso.project });
    expect(jobs.map((j) => j.state)).toEqual(['PIPELINE_STATE_CANCELLED']);
    expect([...(await cancels()).values()]).toEqual([1]);
  });
});

test('cancel while the first attempt runs: its job is cancelled on Vertex', async () => {
  await inProject(async (ctx) => {
    await control.addRule({ match: { project: iso.project }, script: { holdIn: 'RUNNING' } });
    const run = await start(ctx, 'trainer');
    const s = await until(run, (s) => s.phase === 'running' && s.job?.attempt === 1);
    await run.cancel();
    await expectCancelled(run);
    expect((await control.job(s.job!.name)).state).toBe('PIPELINE_STATE_CANCELLED');
    expect(Object.fromEntries(await cancels())).toEqual({ [s.job!.name]: 1 });
  });
});

test('cancel while the second attempt is being submitted: attempt 1’s failed job is left alone, attempt 2’s is cancelled', async () => {
  await inProject(async (ctx) => {
    // Attempt 1 holds in RUNNING until the test lets it fail, so the slow create is set up in time.
    await control.addRule({
      match: { project: iso.project },
      script: { outcome: 'FAILED', holdIn: 'RUNNING', error: { code: 9, message: 'OOM' } },
      times: 1,
    });
    await control.addRule({ match: { project: iso.project }, script: { holdIn: 'RUNNING' } });
    const run = await start(ctx, 'trainer');
    const first = (await until(run, (s) => s.phase === 'running' && s.job?.attempt === 1)).job!;
    await untilJobState(control, first.name, 'PIPELINE_STATE_RUNNING');
    await loseNextAnswer(control, iso.project, 'CreatePipelineJob', 3_000);
    await control.advance(first.name); // → FAILED: the run submits attempt 2, whose answer is slow
    await until(run, (s) => s.phase === 'submitting' && s.attempts.length === 1);
    await eventually(async () => ((await control.jobs({ project: iso.project })).length === 2 ? true : undefined));
    await run.cancel();
    await expectCancelled(run);
    const second = (await control.jobs({ project: iso.project })).find((j) => j.name !== first.name)!;
    expect((await control.job(first.name)).state).toBe('PIPELINE_STATE_FAILED');
    expect(second.state).toBe('PIPELINE_STATE_CANCELLED');
    expect(Object.fromEntries(await cancels())).toEqual({ [second.name]: 1 });
  });
});

test('cancel while the second attempt runs: that job is cancelled, not left running behind the run', async () => {
  await inProject(async (ctx) => {
    await control.addRule({
      match: { project: iso.project },
      script: { outcome: 'FAILED', error: { code: 9, message: 'OOM' } },
      times: 1,
    });
    await control.addRule({ match: { project: iso.project }, script: { holdIn: 'RUNNING' } });
    const run = await start(ctx, 'trainer');
    const s = await until(run, (s) => s.phase === 'running' && s.job?.attempt === 2);
    await untilJobState(control, s.job!.name, 'PIPELINE_STATE_RUNNING');
    await run.cancel();
    await expectCancelled(run);
    expect((await control.job(s.job!.name)).state).toBe('PIPELINE_STATE_CANCELLED');
    expect(Object.fromEntries(await cancels())).toEqual({ [s.job!.name]: 1 });
    const status = await run.query(trainingStatusQuery);
    expect(status.attempts.map((a) => [a.attempt, a.state])).toEqual([
      [1, 'FAILED'],
      [2, 'CANCELLED'],
    ]);
  });
});

test('cancel while the model is being registered: the upload finishes as a candidate, no champion moves, the run ends Cancelled', async () => {
  await inProject(async (ctx) => {
    // The version is stored at once; its answer is held back 3 s (then lost), so the cancel lands mid-upload.
    await loseNextAnswer(control, iso.project, 'UploadModel', 3_000);
    const run = await start(ctx, 'scored');
    await until(run, (s) => s.phase === 'registering');
    await run.cancel();
    await expectCancelled(run);
    const models = await control.models(iso.project);
    // Vertex gives a model's first version the `default` alias itself.
    expect(models.flatMap((m) => m.versions.map((v) => v.aliases))).toEqual([['default', 'candidate']]);
    const status = await run.query(trainingStatusQuery);
    expect(status.model?.aliases).toEqual(['candidate']);
    expect(status.phase).toBe('cancelled');
    expect(await cancels()).toEqual(new Map()); // the training job had SUCCEEDED: nothing to cancel
  });
});

describe('cancel races', () => {
  test.each([
    ['lose-succeed', 'SUCCEEDED'],
    ['lose-fail', 'FAILED'],
  ] as const)(
    'a cancel that loses the race (%s): the run ends Cancelled, reports the job’s real end and publishes no model',
    async (cancel, end) => {
      await inProject(async (ctx) => {
        await control.addRule({ match: { project: iso.project }, script: { holdIn: 'RUNNING', cancel } });
        const run = await start(ctx, 'scored');
        const s = await until(run, (s) => s.phase === 'running');
        await untilJobState(control, s.job!.name, 'PIPELINE_STATE_RUNNING');
        await run.cancel();
        await expectCancelled(run);
        expect((await control.job(s.job!.name)).state).toBe(`PIPELINE_STATE_${end}`);
        const status = await run.query(trainingStatusQuery);
        expect(status.attempts.map((a) => a.state)).toEqual([end]);
        expect(status.phase).toBe('cancelled');
        // An operator asked for no model: even a job that won the race is not registered or announced.
        expect(await control.models(iso.project)).toEqual([]);
      });
    },
  );

  test('a cancel Vertex answers FAILED_PRECONDITION (the job ended meanwhile): the run ends Cancelled without retrying the cancel', async () => {
    await inProject(async (ctx) => {
      await control.addRule({ match: { project: iso.project }, script: { holdIn: 'RUNNING' } });
      await control.addFault({
        method: 'CancelPipelineJob',
        project: iso.project,
        code: 'FAILED_PRECONDITION',
        times: 1,
      });
      const run = await start(ctx, 'trainer');
      const s = await until(run, (s) => s.phase === 'running');
      await untilJobState(control, s.job!.name, 'PIPELINE_STATE_RUNNING');
      await run.cancel();
      // The refused cancel: the run goes on watching until the job ends, here by the test's hand.
      await eventually(async () =>
        (await control.calls({ method: 'CancelPipelineJob', project: iso.project })).length === 1 ? true : undefined,
      );
      await control.advance(s.job!.name);
      await expectCancelled(run);
      expect(
        (await control.calls({ method: 'CancelPipelineJob', project: iso.project })).map((c) => c.codeName),
      ).toEqual(['FAILED_PRECONDITION']);
      expect((await run.query(trainingStatusQuery)).attempts.map((a) => a.state)).toEqual(['SUCCEEDED']);
    });
  });

  test('a job cancelled from outside the run (console, gcloud) is an attempt that failed: the run trains again', async () => {
    const clients = vertexClients();
    try {
      await inProject(async (ctx) => {
        await control.addRule({ match: { project: iso.project }, script: { holdIn: 'RUNNING' }, times: 1 });
        const run = await start(ctx, 'trainer');
        const s = await until(run, (s) => s.phase === 'running' && s.job?.attempt === 1);
        await clients.pipelines.cancelPipelineJob({ name: s.job!.name });
        const result = await run.result();
        expect(result).toMatchObject({ status: 'succeeded', attempts: 2 });
        expect((await run.query(trainingStatusQuery)).attempts.map((a) => a.state)).toEqual(['CANCELLED']);
      });
    } finally {
      await clients.close();
    }
  });
});
