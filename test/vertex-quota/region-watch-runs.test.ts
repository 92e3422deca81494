// The coalesced watch (the default) as a training run sees it: a job that ends between two listings
// hands its end state to the run, and a job deleted on Vertex before the watch saw it end fails the
// run at once with Vertex's NOT_FOUND instead of leaving it waiting. region-watch.test.ts covers the
// watch itself (page boundary, every end state, 429s); region-watch-takeover.test.ts a killed worker.
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { startTrainingRun } from '../../client/training';
import { uniquePartition, type IsolatedProject } from '../helpers/isolation';
import { customJobTraining, monthlyData, projectWith } from '../helpers/pipelines';
import { withWorker, type WorkerContext } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { emulatorControl } from '../helpers/vertex';

jest.setTimeout(90_000);

// Explicit, so the suite keeps testing the coalesced watch whatever the default becomes.
process.env.CT_VERTEX_WATCH = 'coalesced';
const control = emulatorControl();

// `churn`: a CustomJob (its watch lists CustomJobs), with two attempts: a run failing at once then
// shows that a job deleted on Vertex is not retried as a new attempt.
let iso: IsolatedProject;
beforeEach(
  () =>
    (iso = projectWith({
      churn: { data: monthlyData(['creator_activity']), training: customJobTraining, retry: { maxAttempts: 2 } },
    })),
);
afterEach(() => iso.cleanup());
const inProject = <R>(fn: (ctx: WorkerContext) => Promise<R>) => withWorker(fn, { project: iso });

/** Starts a CustomJob run whose job stays RUNNING until the test advances it; returns once a listing showed it running. */
async function runningJob(ctx: WorkerContext) {
  await control.addRule({ match: { project: iso.project }, script: { holdIn: 'RUNNING' } });
  const handle = await startTrainingRun(
    ctx.client,
    iso.config,
    { pipeline: 'churn', environment: 'staging', partition: uniquePartition('monthly'), assumeDataReady: true },
    { taskQueue: ctx.taskQueue },
  );
  const job = await eventually(async () => {
    const [j] = await control.jobs({ kind: 'customJob', project: iso.project });
    return j?.state === 'JOB_STATE_RUNNING' ? j : undefined;
  });
  const since = Date.now();
  await eventually(async () => {
    const lists = await control.calls({ method: 'ListCustomJobs', project: iso.project });
    return lists.some((c) => Date.parse(c.time) > since && c.codeName === 'OK') ? true : undefined;
  });
  return { handle, job };
}

test('a job that ends between two listings: the next listing hands its end state to the run, with no Get', async () => {
  await inProject(async (ctx) => {
    const { handle, job } = await runningJob(ctx);
    const endedAt = Date.now();
    await control.advance(job.name);

    const result = await handle.result();
    expect(result).toMatchObject({ status: 'succeeded', attempts: 1, job: { name: job.name } });
    const after = (await control.calls({ project: iso.project })).filter((c) => Date.parse(c.time) >= endedAt);
    expect(after.filter((c) => c.method === 'GetCustomJob')).toEqual([]);
    expect(after.filter((c) => c.method === 'ListCustomJobs').length).toBeGreaterThanOrEqual(1);
  });
});

test('a job deleted on Vertex before the watch saw it end fails the run at once with NOT_FOUND, naming the job', async () => {
  await inProject(async (ctx) => {
    const { handle, job } = await runningJob(ctx);
    // Listings fail for a moment, so the job ends and is deleted (Vertex deletes only ended jobs)
    // before any listing could show its end.
    await control.addFault({ method: 'ListCustomJobs', project: iso.project, code: 'UNAVAILABLE', times: 1_000 });
    await eventually(async () => {
      const lists = await control.calls({ method: 'ListCustomJobs', project: iso.project });
      return lists.some((c) => c.codeName === 'UNAVAILABLE') ? true : undefined;
    });
    await control.advance(job.name);
    await control.deleteJob(job.name);
    await control.clearFaults(iso.project);

    const err = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    // The reason at the top, as for any request Vertex rejects (the watch activity's failure is its cause).
    const failure = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(failure.type).toBe('VertexRejected');
    expect(failure.message).toMatch(/NOT_FOUND/);
    expect(failure.message).toContain(job.name.split('/').pop());
    // One Get of the job the listing lacked, not a retry loop.
    const gets = await control.calls({ method: 'GetCustomJob', project: iso.project });
    expect(gets.map((c) => c.codeName)).toEqual(['NOT_FOUND']);
  });
});
