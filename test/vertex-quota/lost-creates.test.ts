// CustomJob ids are made by Vertex, so a training attempt finds its job again by a label. These
// tests lose the create's answer in each way Vertex can and check that one job per attempt trains:
// the answer lost after the job was stored, a listing that lags behind the create, and a create
// that commits only after the caller's deadline (then the watch cancels the second job it made).
import { startTrainingRun } from '../../client/training';
import { createVertexClientFactory } from '../../infra/vertex/clients';
import { uniquePartition, type IsolatedProject } from '../helpers/isolation';
import { customJobTraining, dailyData, projectWith } from '../helpers/pipelines';
import { withWorker, type WorkerContext } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { statusUntil } from '../helpers/training-steps';
import { emulatorControl, LOCATION, loseNextAnswer, parentOf, untilJobState } from '../helpers/vertex';
import { testStack } from '../setup/test-stack';

jest.setTimeout(120_000);
const control = emulatorControl();

// A CustomJob pipeline (Vertex makes its job ids) in a Vertex project of each test's own.
let iso: IsolatedProject;
beforeEach(() => (iso = projectWith({ trainer: { data: dailyData(['features']), training: customJobTraining } })));
afterEach(() => iso.cleanup());

const startTrainer = (ctx: WorkerContext) =>
  startTrainingRun(
    ctx.client,
    iso.config,
    { pipeline: 'trainer', environment: 'staging', partition: uniquePartition(), assumeDataReady: true },
    { taskQueue: ctx.taskQueue },
  );
/** A retried submit whose create may have landed sweeps for late twins this long (CT_VERTEX_LATE_CREATE_WINDOW_MS). */
const WINDOW_MS = 25_000;
const inProject = <R>(fn: (ctx: WorkerContext) => Promise<R>, lateCreateWindowMs = WINDOW_MS) =>
  withWorker(fn, { project: iso, lateCreateWindowMs });
const creates = async () =>
  (await control.calls({ method: 'CreateCustomJob', project: iso.project })).map((c) => c.codeName);

test('the create’s answer is lost after the job was stored: the retry finds that job by its label', async () => {
  await inProject(async (ctx) => {
    await loseNextAnswer(control, iso.project, 'CreateCustomJob');
    const result = await (await startTrainer(ctx)).result();
    expect(result).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await creates()).toEqual(['UNAVAILABLE']);
    const jobs = await control.jobs({ project: iso.project });
    expect(jobs.map((j) => [j.name, j.state])).toEqual([[result.job!.name, 'JOB_STATE_SUCCEEDED']]);
  });
});

test('the answer is lost and the listing lags behind the create: the retry looks again before creating, one job', async () => {
  await inProject(async (ctx) => {
    await loseNextAnswer(control, iso.project, 'CreateCustomJob');
    await control.addFault({
      method: 'ListCustomJobs',
      project: iso.project,
      mode: 'stale-list',
      lagMs: 3_000,
      times: 20,
    });
    const result = await (await startTrainer(ctx)).result();
    expect(result).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await creates()).toEqual(['UNAVAILABLE']);
    expect((await control.jobs({ project: iso.project })).map((j) => j.state)).toEqual(['JOB_STATE_SUCCEEDED']);
  });
});

/**
 * The first create answers DEADLINE_EXCEEDED and lands `commitAfterMs` later; the retry (2 s
 * backoff, then a second look 5 s on) makes its own job. Jobs hold in RUNNING until the test says.
 * Resolves once the run's job runs.
 */
async function lateCreateRun(ctx: WorkerContext, commitAfterMs: number) {
  await control.addFault({
    method: 'CreateCustomJob',
    project: iso.project,
    code: 'DEADLINE_EXCEEDED',
    mode: 'commit-late',
    commitAfterMs,
    times: 1,
  });
  await control.addRule({ match: { project: iso.project }, script: { holdIn: 'RUNNING' } });
  const run = await startTrainer(ctx);
  const watched = (await statusUntil(run, (s) => s.phase === 'running')).job!;
  return { run, watched };
}

const cancelled = async () =>
  (await control.calls({ method: 'CancelCustomJob', project: iso.project })).map(
    (c) => (c.request as { name: string }).name,
  );

test('a create that commits after the caller’s deadline: the second job trains, the late one is cancelled', async () => {
  await inProject(async (ctx) => {
    const { run, watched } = await lateCreateRun(ctx, 9_000);
    const late = await eventually(
      async () => (await control.jobs({ project: iso.project })).find((j) => j.name !== watched.name),
      30_000,
    );
    await untilJobState(control, watched.name, 'JOB_STATE_RUNNING');
    await control.advance(watched.name); // the watched job succeeds
    const result = await run.result();
    expect(result).toMatchObject({ status: 'succeeded', attempts: 1, job: { name: watched.name } });
    expect(await creates()).toEqual(['DEADLINE_EXCEEDED', 'OK']);
    // The run did not move on while its attempt's other job ran.
    expect(['JOB_STATE_CANCELLING', 'JOB_STATE_CANCELLED']).toContain((await control.job(late.name)).state);
    await eventually(async () => ((await control.job(late.name)).state === 'JOB_STATE_CANCELLED' ? true : undefined));
    expect(await cancelled()).toEqual([late.name]);
  });
});

test('a create that lands after the retry’s job has ended: the run sweeps until no late create can land and cancels it', async () => {
  // The late create lands 15 s after the first try, once the retry's job (made ~7 s in) has
  // succeeded. With CT_VERTEX_LATE_CREATE_WINDOW_MS = 0 (no window) the run ends first and the
  // late job trains on with nothing left to cancel it.
  await inProject(async (ctx) => {
    const { run, watched } = await lateCreateRun(ctx, 15_000);
    await untilJobState(control, watched.name, 'JOB_STATE_RUNNING');
    await control.advance(watched.name); // the retry's job succeeds, then the late create lands
    const result = await run.result();
    expect(result).toMatchObject({ status: 'succeeded', attempts: 1, job: { name: watched.name } });
    const late = (await control.jobs({ project: iso.project })).find((j) => j.name !== watched.name);
    expect(late).toBeDefined();
    const ended = (await control.job(watched.name)).endTime!;
    expect(Date.parse(late!.createTime)).toBeGreaterThan(Date.parse(ended));
    expect(['JOB_STATE_CANCELLING', 'JOB_STATE_CANCELLED']).toContain(late!.state);
    expect(await cancelled()).toEqual([late!.name]);
  });
});

test('a late create that lands while the retry’s create waits for the budget: the earlier job is kept, the one just made cancelled', async () => {
  // A create budget of two a minute, one spent 40 s before the run: the retry's create waits ~14 s
  // for the window (under the budget's 20-s limit) after its lookups found nothing. Meanwhile the
  // first try's create lands (10 s in) and its 2-s job ends, before the retry's job exists, so no
  // watch could ever list it running. Without keepEarliest the run trains on the job it just made
  // and the late one has run unowned.
  const vertex = createVertexClientFactory({
    VERTEX_API_ENDPOINT: `${testStack().CT_TEST_VERTEX_HOST}:${testStack().CT_TEST_VERTEX_PORT}`,
    CT_VERTEX_CREATES_PER_MINUTE: 2,
  });
  try {
    await withWorker(
      async (ctx) => {
        await vertex(LOCATION).endpoints.createEndpoint({
          parent: parentOf(iso.project),
          endpoint: { displayName: 'spends one create of the minute' },
        });
        await new Promise((r) => setTimeout(r, 40_000));
        await control.addFault({
          method: 'CreateCustomJob',
          project: iso.project,
          code: 'DEADLINE_EXCEEDED',
          mode: 'commit-late',
          commitAfterMs: 10_000,
          times: 1,
        });
        await control.addRule({ match: { project: iso.project }, script: { runningMs: 2_000 } });
        const result = await (await startTrainer(ctx)).result();
        const jobs = (await control.jobs({ project: iso.project })).sort((a, b) =>
          a.createTime.localeCompare(b.createTime),
        );
        expect(jobs).toHaveLength(2);
        const [late, ours] = jobs as [(typeof jobs)[0], (typeof jobs)[0]];
        expect(Date.parse(ours.createTime)).toBeGreaterThan(Date.parse(late.endTime!));
        expect(result).toMatchObject({ status: 'succeeded', attempts: 1, job: { name: late.name } });
        expect(late.state).toBe('JOB_STATE_SUCCEEDED');
        expect(['JOB_STATE_CANCELLING', 'JOB_STATE_CANCELLED']).toContain(ours.state);
        expect(await cancelled()).toEqual([ours.name]);
      },
      { project: iso, vertex, lateCreateWindowMs: WINDOW_MS },
    );
  } finally {
    await vertex.close();
  }
});
