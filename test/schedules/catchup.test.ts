// Schedules on the shared dev server, in an environment of their own (`catchup`: own task queue,
// own Vertex project), deleted after each test so nothing fires mid-suite: a backfill over
// partitions that already ran starts nothing new, and what a pause does to the firings it spans.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { backfillSchedule, describeSchedule, pauseSchedule } from '../../client/schedules/operate';
import { applySync, planSync } from '../../client/schedules/sync';
import { sendDataReady } from '../../client/training';
import {
  scheduledRunQuery,
  scheduledRunWorkflowType,
  type ScheduledRunStatus,
  type TrainingRunResult,
} from '../../contracts';
import { uniqueId, withWorker } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { customJobTraining, dailyData, onQueue, projectWith } from '../helpers/pipelines';
import { emulatorControl } from '../helpers/vertex';
import { testStack } from '../setup/test-stack';

const execFileAsync = promisify(execFile);

jest.setTimeout(120_000);

const ENV = 'catchup';
const TASK_QUEUE = uniqueId('catchup');
const DAILY = 'ct:catchup:backfilled:daily';
const EVERY_2S = 'ct:catchup:backfilled:every-2s';
// Both pipelines in environment `catchup` on this suite's task queue, their schedules created
// paused. A partition's data is given up on after 2 s (skipped), so backfilled firings end soon.
const environments = { [ENV]: onQueue(TASK_QUEUE) };
const iso = projectWith({
  // Daily at 03:00 UTC on the day before (backfills only), and every 2 s (unpaused by a test).
  backfilled: {
    environments,
    data: dailyData(['backfilled_data'], '2s', 'skip'),
    training: customJobTraining,
    schedules: {
      daily: { action: 'training', cron: '0 3 * * *', catchupWindow: '1h', paused: { note: 'backfills only' } },
      'every-2s': {
        action: 'training',
        interval: '2s',
        overlap: 'allow-all',
        catchupWindow: '1h',
        paused: { note: 'unpaused by the test' },
      },
    },
  },
  // Hourly partitions in New York, "the previous hour".
  'hourly-ny': {
    environments,
    data: { partition: 'hourly', datasets: ['hourly_data'], timeout: '2s', onTimeout: 'skip' },
    training: customJobTraining,
    schedules: {
      hourly: {
        action: 'training',
        cron: '30 * * * *',
        timezone: 'America/New_York',
        overlap: 'allow-all',
        paused: { note: 'backfills only' },
      },
    },
  },
});
afterAll(() => iso.cleanup());
const config = iso.config;
const control = emulatorControl();

/** The `ct` CLI as a separate process (bin/ct.cjs, what `npx ct` runs), against the test server. */
async function ct(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const bin = path.join(__dirname, '..', '..', 'bin', 'ct.cjs');
  const env = { ...process.env, TEMPORAL_ADDRESS: testStack().CT_TEST_TEMPORAL_ADDRESS };
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [bin, '--config', iso.configPath, ...args], {
      env,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Creates this environment's schedules (paused, as the config says), runs fn, then deletes them. */
async function withSchedules(client: Client, fn: () => Promise<void>) {
  await applySync(client, await planSync(client, config, ENV));
  try {
    await fn();
  } finally {
    const gone = structuredClone(config);
    for (const [name, p] of Object.entries(gone.pipelines)) if (p.environments[ENV]) delete gone.pipelines[name];
    await applySync(client, await planSync(client, gone, ENV));
  }
}

/** The firings of a schedule whose scheduled time is in [from, to], each once it has reached its run. */
async function firings(
  client: Client,
  scheduleId: string,
  from: Date,
  to: Date,
): Promise<Required<Pick<ScheduledRunStatus, 'partition' | 'outcome' | 'workflowId' | 'scheduledAt'>>[]> {
  const out = [];
  for await (const w of client.workflow.list({
    query: `WorkflowType = "${scheduledRunWorkflowType}" AND TemporalScheduledById = "${scheduleId}"`,
  })) {
    const s = await client.workflow.getHandle(w.workflowId, w.runId).query(scheduledRunQuery);
    if (!s.scheduledAt || !s.outcome || !s.partition || !s.workflowId) continue; // not at its run yet
    const at = new Date(s.scheduledAt);
    if (at >= from && at <= to)
      out.push({ partition: s.partition, outcome: s.outcome, workflowId: s.workflowId, scheduledAt: s.scheduledAt });
  }
  return out.sort((a, b) => a.scheduledAt.localeCompare(b.scheduledAt));
}

test('a backfill over partitions that already ran starts nothing new: each firing finds its run finished, no second run, no second Vertex job', async () => {
  await withWorker(
    async ({ client }) => {
      await withSchedules(client, async () => {
        const partitions = ['2032-05-01', '2032-05-02', '2032-05-03'];
        // The three days run first (data-ready, as Airflow would) and finish: one CustomJob each.
        for (const partition of partitions)
          await sendDataReady(
            client,
            config,
            { environment: ENV, dataset: 'backfilled_data', partition },
            { taskQueue: TASK_QUEUE },
          );
        for (const partition of partitions) {
          const r = (await client.workflow
            .getHandle(`training:${ENV}:backfilled:all:${partition}`)
            .result()) as TrainingRunResult;
          expect(r).toMatchObject({ status: 'succeeded', partition, job: { state: 'SUCCEEDED' } });
        }
        const jobsBefore = await control.jobs({
          kind: 'customJob',
          project: iso.project,
          labels: { 'ct-pipeline': 'backfilled', 'ct-environment': ENV },
        });
        expect(jobsBefore.filter((j) => partitions.includes(j.labels['ct-partition']!))).toHaveLength(3);

        // Firings at 03:00 UTC on 5/2, 5/3, 5/4 work on the day before each: the three that ran.
        const from = new Date('2032-05-02T00:00:00Z');
        const to = new Date('2032-05-04T23:59:00Z');
        for (const round of [1, 2]) {
          await backfillSchedule(client, DAILY, from, to);
          const done = await eventually(async () => {
            const f = await firings(client, DAILY, from, to);
            return f.length === 3 * round ? f : undefined;
          }, 60_000);
          expect(done.map((f) => f.partition)).toEqual(round === 1 ? partitions : partitions.flatMap((p) => [p, p]));
          expect(done.map((f) => f.outcome)).toEqual(Array(3 * round).fill('finished'));
        }
        // Still one run per partition, and not one more Vertex job.
        for (const partition of partitions) {
          const runs = [];
          for await (const w of client.workflow.list({
            query: `WorkflowId = "training:${ENV}:backfilled:all:${partition}"`,
          }))
            runs.push(w.status.name);
          expect(runs).toEqual(['COMPLETED']);
        }
        const jobsAfter = await control.jobs({
          kind: 'customJob',
          project: iso.project,
          labels: { 'ct-pipeline': 'backfilled', 'ct-environment': ENV },
        });
        expect(jobsAfter.map((j) => j.name).sort()).toEqual(jobsBefore.map((j) => j.name).sort());
      });
    },
    { taskQueue: TASK_QUEUE, project: iso },
  );
});

test('an hourly schedule in New York backfilled over both daylight-saving nights: each firing works on the previous real hour; 02 never exists in spring, 01 is one run in autumn', async () => {
  await withWorker(
    async ({ client }) => {
      await withSchedules(client, async () => {
        const id = 'ct:catchup:hourly-ny:hourly';
        // Spring forward. Firings at :30 local: 00:30 EST, 01:30 EST, (02:30 does not exist), 03:30 EDT, 04:30 EDT.
        const from = new Date('2026-03-08T05:00:00Z');
        const to = new Date('2026-03-08T08:59:00Z');
        await backfillSchedule(client, id, from, to);
        const done = await eventually(async () => {
          const f = await firings(client, id, from, to);
          return f.length === 4 ? f : undefined;
        }, 60_000);
        expect(done.map((f) => [f.scheduledAt, f.partition])).toEqual([
          ['2026-03-08T05:30:00.000Z', '2026-03-07T23'],
          ['2026-03-08T06:30:00.000Z', '2026-03-08T00'],
          ['2026-03-08T07:30:00.000Z', '2026-03-08T01'],
          ['2026-03-08T08:30:00.000Z', '2026-03-08T03'],
        ]);
        expect(done.map((f) => f.workflowId)).toEqual(done.map((f) => `training:${ENV}:hourly-ny:all:${f.partition}`));

        // Fall back: 01:30 happens twice (EDT, then EST) and the server fires at both. The hour
        // before 01:30 EST is 01:30 EDT: both of 01's real hours are one partition, one run.
        const back = { from: new Date('2026-11-01T04:00:00Z'), to: new Date('2026-11-01T07:59:00Z') };
        await backfillSchedule(client, id, back.from, back.to);
        const fell = await eventually(async () => {
          const f = await firings(client, id, back.from, back.to);
          return f.length === 4 ? f : undefined;
        }, 60_000);
        expect(fell.map((f) => [f.scheduledAt, f.partition])).toEqual([
          ['2026-11-01T04:30:00.000Z', '2026-10-31T23'], // 00:30 EDT
          ['2026-11-01T05:30:00.000Z', '2026-11-01T00'], // 01:30 EDT
          ['2026-11-01T06:30:00.000Z', '2026-11-01T01'], // 01:30 EST
          ['2026-11-01T07:30:00.000Z', '2026-11-01T01'], // 02:30 EST
        ]);
        // Backfilled firings race each other: whichever comes second attaches to (or finds) the first one's run.
        expect(
          fell
            .slice(2)
            .map((f) => (f.outcome === 'started' ? 'started' : 'joined'))
            .sort(),
        ).toEqual(['joined', 'started']);
      });
    },
    { taskQueue: TASK_QUEUE, project: iso },
  );
});

/** The 2-second ticks strictly inside a pause, a second clear of either end (the pause and the tick may race there). */
const ticksWithin = (from: number, to: number) => {
  const out: string[] = [];
  for (let t = Math.ceil((from + 1_000) / 2_000) * 2_000; t < to - 1_000; t += 2_000)
    out.push(new Date(t).toISOString());
  return out;
};

test('a pause skips the firings it spans even within catchupWindow (the server does not catch them up); unpause --catch-up runs them', async () => {
  await withWorker(
    async ({ client }) => {
      await withSchedules(client, async () => {
        // The schedule's own record (its last 10 firings, current) and visibility (all of them, a little late).
        const scheduledTimes = async () => {
          const times = new Set((await describeSchedule(client, EVERY_2S)).recentActions.map((a) => a.scheduledAt));
          for await (const w of client.workflow.list({ query: `TemporalScheduledById = "${EVERY_2S}"` }))
            times.add(new Date(w.workflowId.slice(`scheduled:${ENV}:backfilled:every-2s-`.length)).toISOString());
          return [...times];
        };
        /** Waits until the schedule has fired after `t`: the server has dealt with every earlier time by then. */
        const firedAfter = (t: number) =>
          eventually(async () => ((await scheduledTimes()).some((s) => Date.parse(s) > t) ? true : undefined), 30_000);
        const pauseFor = async (ms: number) => {
          await pauseSchedule(client, EVERY_2S, true, 'test: paused');
          const from = Date.now();
          await new Promise((r) => setTimeout(r, ms)); // the pause itself: what it spans is the input
          return from;
        };

        await pauseSchedule(client, EVERY_2S, false, 'test: running');
        await firedAfter(0);

        // Plain unpause: nothing the pause spanned runs, then and later; firing goes on.
        const p0 = await pauseFor(7_000);
        const plain = await pauseSchedule(client, EVERY_2S, false, 'test: back');
        const p1 = Date.now();
        expect(plain.caughtUp).toBeUndefined();
        await firedAfter(p1);
        const skipped = ticksWithin(p0, p1);
        expect(skipped.length).toBeGreaterThanOrEqual(2);
        expect((await scheduledTimes()).filter((t) => skipped.includes(t))).toEqual([]);

        // Unpause with catch-up: each skipped tick still within the window (1h) runs, as a backfill.
        const q0 = await pauseFor(7_000);
        // As an operator would: `ct schedules unpause … --catch-up`.
        const cli = await ct(
          '--json',
          'schedules',
          'unpause',
          EVERY_2S,
          '--note',
          'test: back, catching up',
          '--catch-up',
        );
        expect([cli.code, cli.stderr]).toEqual([0, '']);
        const caught = JSON.parse(cli.stdout) as Awaited<ReturnType<typeof pauseSchedule>>;
        const q1 = Date.now();
        expect(caught).toMatchObject({ paused: false, note: 'test: back, catching up' });
        expect(caught.caughtUp).toMatchObject({ requested: true });
        expect(Date.parse(caught.caughtUp!.from)).toBeLessThanOrEqual(q0 + 1_000);
        const missed = ticksWithin(q0, q1);
        expect(missed.length).toBeGreaterThanOrEqual(2);
        await eventually(async () => {
          const times = await scheduledTimes();
          return missed.every((t) => times.includes(t)) ? true : undefined;
        }, 30_000);
        // The first pause's ticks stay skipped: a catch-up covers only the pause it ends.
        expect((await scheduledTimes()).filter((t) => skipped.includes(t))).toEqual([]);
        await pauseSchedule(client, EVERY_2S, true, 'test: done');
      });
    },
    { taskQueue: TASK_QUEUE, project: iso },
  );
});
