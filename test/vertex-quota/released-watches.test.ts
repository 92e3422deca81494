// The coalesced watch lets go of its activity (activities/vertex/released-watches.ts): a worker
// watches more running jobs than it has activity slots, and a worker that stops in order hands its
// watches to the next attempt at once instead of after their startToClose timeout.
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startTrainingRun } from '../../client/training';
import { STILL_RUNNING } from '../../contracts';
import { eventually } from '../helpers/eventually';
import { uniquePartition, type IsolatedProject } from '../helpers/isolation';
import { customJobTraining, dailyData, projectWith } from '../helpers/pipelines';
import { connectTestClient, uniqueId, withWorker, type WorkerContext } from '../helpers/temporal';
import { emulatorControl, untilJobState } from '../helpers/vertex';

jest.setTimeout(240_000);

const control = emulatorControl();
const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
let iso: IsolatedProject;
beforeEach(async () => {
  // A chunk of 5 minutes: a watch hands over only when its worker does (or its timeout passes).
  iso = projectWith({
    churn: { data: dailyData(['events']), training: customJobTraining, polling: { interval: '100ms', chunk: '5m' } },
  });
  await control.addRule({ match: { project: iso.project }, script: { holdIn: 'RUNNING' } });
});
afterEach(async () => {
  await control.clearRules(iso.project);
  await iso.cleanup();
});

const startRuns = (ctx: Pick<WorkerContext, 'client' | 'taskQueue'>, n: number) =>
  Promise.all(
    Array.from({ length: n }, () =>
      startTrainingRun(
        ctx.client,
        iso.config,
        { pipeline: 'churn', environment: 'staging', partition: uniquePartition(), assumeDataReady: true },
        { taskQueue: ctx.taskQueue },
      ),
    ),
  );

/** The run's watch activity as the server has it, once there is one. */
const watchOf = async (run: WorkflowHandle) =>
  ((await run.describe()).raw.pendingActivities ?? []).find((a) => a.activityType?.name === 'awaitTrainingJob');

/**
 * Ends the project's `n` jobs once each is held RUNNING: advanced earlier (a watch starts as soon as
 * its job is created), a job still QUEUED or PENDING would only step on to RUNNING and stay held.
 */
async function endHeldJobs(n: number): Promise<void> {
  const jobs = await eventually(async () => {
    const all = await control.jobs({ project: iso.project });
    return all.length === n ? all : undefined;
  }, 60_000);
  for (const job of jobs) {
    await untilJobState(control, job.name, 'JOB_STATE_RUNNING', 60_000);
    await control.advance(job.name);
  }
}

/** `p`, or a failure that says what the runs and jobs looked like after `ms`. */
async function withinOrExplain<T>(p: Promise<T>, ms: number, explain: () => Promise<unknown>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void explain().then((state) => reject(new Error(`not done within ${ms} ms: ${JSON.stringify(state)}`)), reject);
    }, ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

test('a worker with 3 activity slots watches 8 running jobs at once: a watch holds no slot', async () => {
  await withWorker(
    async (ctx) => {
      const runs = await startRuns(ctx, 8);
      // Held watches would fill the 3 slots and leave the other 5 scheduled, not started.
      await eventually(async () => {
        const watches = await Promise.all(runs.map(watchOf));
        return watches.every((w) => w?.state === STARTED) || undefined;
      }, 60_000);
      const advancedAt = Date.now();
      await endHeldJobs(8);
      const results = await withinOrExplain(Promise.all(runs.map((r) => r.result())), 90_000, async () => ({
        watches: (await Promise.all(runs.map(watchOf))).map((w) => w && { state: w.state, attempt: w.attempt }),
        jobs: (await control.jobs({ project: iso.project })).map((j) => j.state),
        listsSinceAdvance: (await control.calls({ project: iso.project })).filter(
          (c) => c.method.startsWith('List') && Date.parse(c.time) >= advancedAt,
        ).length,
      }));
      expect(results.map((r) => r.status)).toEqual(Array(8).fill('succeeded'));
    },
    { project: iso, maxConcurrentActivities: 3 },
  );
});

test('a worker that stops in order hands its watches over at once; the next worker sees the job end', async () => {
  const taskQueue = uniqueId('handover');
  const { client, close } = await connectTestClient();
  try {
    const [started] = await withWorker(
      async (ctx) => {
        const runs = await startRuns({ client, taskQueue: ctx.taskQueue }, 1);
        await eventually(async () => ((await watchOf(runs[0]!))?.state === STARTED ? true : undefined), 30_000);
        return runs;
      },
      { project: iso, taskQueue },
    );
    const run = started!;
    // No worker polls now: the watch failed over to its next attempt, which waits to be scheduled.
    // Not handed over, it would stay started on the stopped worker until its timeout (5 m 30 s).
    const next = await eventually(async () => {
      const w = await watchOf(run);
      return w && w.attempt === 2 ? w : undefined;
    }, 10_000);
    expect(next.lastFailure?.applicationFailureInfo?.type).toBe(STILL_RUNNING);
    await withWorker(
      async () => {
        await eventually(async () => ((await watchOf(run))?.state === STARTED ? true : undefined), 30_000);
        await endHeldJobs(1);
        expect(await run.result()).toMatchObject({ status: 'succeeded', attempts: 1 });
      },
      { project: iso, taskQueue },
    );
  } finally {
    await close();
  }
});
