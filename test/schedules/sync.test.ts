// Schedules from the config, reconciled into real Temporal Schedules on the test dev server: sync
// creates, updates in place, deletes only what it made, writes nothing twice; pause / unpause;
// trigger and backfill land on the partition's one run.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, ScheduleNotFoundError, type ScheduleHandle } from '@temporalio/client';
import { pauseSchedule, triggerSchedule, backfillSchedule, describeSchedule } from '../../client/schedules/operate';
import { applySync, formatPlan, planSync } from '../../client/schedules/sync';
import { sendDataReady } from '../../client/training';
import type { PipelineConfig } from '../../config/pipeline-config';
import { pricesOnce } from '../../config/prices';
import { partitionAt, scheduledRunQuery, scheduledRunWorkflowType, type ScheduledRunResult } from '../../contracts';
import { freePort } from '../../stack/process';
import { startTemporalDevServer } from '../../stack/temporal-server';
import { readToolPaths } from '../../stack/tools';
import { maybeSaveHistory } from '../helpers/histories';
import { connectTestClient, uniqueId, withWorker } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { emulatorControl } from '../helpers/vertex';
import { customJobTraining, dailyData, nightlySchedules, onQueue, projectWith } from '../helpers/pipelines';

jest.setTimeout(120_000);

const ENV = 'sched';
const DAILY = 'ct:sched:nightly:daily';
const WEEKLY = 'ct:sched:nightly:weekly-retrain';
const SCHED_QUEUE = uniqueId('sched');
const DOOM_QUEUE = uniqueId('doom');

// nightly's schedules in environment `sched`, impatient-fail's in `doom`: each environment on a
// task queue of this suite's own, which its worker polls.
const iso = projectWith({
  nightly: {
    environments: { [ENV]: onQueue(SCHED_QUEUE) },
    data: dailyData(['nightly_data']),
    training: customJobTraining,
    schedules: nightlySchedules,
  },
  // Its run waits 2 s for data that never comes and fails. Fires every 15 s: the server's scheduler
  // wakes soon after the failure and pauses (it checks on wake-up).
  'impatient-fail': {
    environments: { doom: onQueue(DOOM_QUEUE) },
    data: dailyData(['late_data'], '2s', 'fail'),
    training: customJobTraining,
    schedules: { 'every-15s': { action: 'training', interval: '15s', pauseOnFailure: true } },
  },
});

let client: Client;
let close: () => Promise<void>;
beforeAll(async () => ({ client, close } = await connectTestClient()));
// Schedules live on the shared server: none of this file's may go on firing into other suites.
afterAll(async () => {
  await iso.cleanup();
  for (const id of [DAILY, WEEKLY, 'ct:doom:impatient-fail:every-15s'])
    await client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
  await close();
});

const withSchedules = (
  change: (s: NonNullable<PipelineConfig['pipelines'][string]['schedules']>) => void,
  base = iso.config,
): PipelineConfig => {
  const config = structuredClone(base);
  change(config.pipelines.nightly!.schedules!);
  return config;
};

/** What each firing of a schedule did (its query answers once it has started or found the run). */
async function scheduledRuns(scheduleId: string): Promise<ScheduledRunResult[]> {
  const out: ScheduledRunResult[] = [];
  for await (const w of client.workflow.list({
    query: `WorkflowType = "${scheduledRunWorkflowType}" AND TemporalScheduledById = "${scheduleId}"`,
  })) {
    const s = await client.workflow.getHandle(w.workflowId, w.runId).query(scheduledRunQuery);
    if (s.state === 'starting') throw new Error(`${w.workflowId} has not started its run yet`);
    out.push({ partition: s.partition!, workflowId: s.workflowId!, outcome: s.outcome!, scheduledAt: s.scheduledAt! });
  }
  return out;
}

test('partitions from the scheduled time: yesterday in Tokyo, last month, the previous hour', () => {
  const t = new Date('2026-11-21T18:30:00Z'); // 03:30 on the 22nd in Tokyo
  expect(partitionAt(t, 'daily', -1, 'Asia/Tokyo')).toBe('2026-11-21');
  expect(partitionAt(t, 'daily', -1, 'UTC')).toBe('2026-11-20');
  expect(partitionAt(new Date('2026-03-01T02:00:00Z'), 'monthly', -1, 'UTC')).toBe('2026-02');
  expect(partitionAt(new Date('2026-01-01T00:10:00Z'), 'hourly', -1, 'UTC')).toBe('2025-12-31T23');
});

test('sync: creates, a repeated sync writes nothing, a change updates in place (keeping a pause), removed schedules and pipelines are deleted, an unmanaged one survives', async () => {
  const config = iso.config;
  // Someone else's schedule, even under our id prefix: not ours (no memo marker), never touched.
  const foreign: ScheduleHandle = await client.schedule.create({
    scheduleId: 'ct:sched:legacy:cloud-scheduler-import',
    spec: { intervals: [{ every: '1d' }] },
    action: { type: 'startWorkflow', workflowType: 'somethingElse', taskQueue: 'elsewhere', args: [] },
    state: { paused: true, note: 'not ours' },
  });

  const first = await planSync(client, config, ENV);
  expect(first.entries.map((e) => [e.op, e.id])).toEqual([
    ['create', DAILY],
    ['create', WEEKLY],
  ]);
  expect(await applySync(client, first)).toBe(2);
  const weekly = await describeSchedule(client, WEEKLY);
  expect(weekly).toMatchObject({ paused: true, note: 'waiting for the new feature set' });
  const created = await client.schedule.getHandle(DAILY).describe();
  expect(created.spec.timezone).toBe('Asia/Tokyo');
  expect(created.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 3_600_000, pauseOnFailure: false });

  // Planned again at once, while the list may not show the new schedules yet: describe decides.
  const again = await planSync(client, config, ENV);
  expect(again).toMatchObject({ entries: [], unchanged: 2 });
  expect(await applySync(client, again)).toBe(0);

  // An operator pauses daily; then the config changes its time. Updated in place, still paused.
  await pauseSchedule(client, DAILY, true, 'incident 4711');
  const changed = withSchedules((s) => (s.daily!.cron = '30 4 * * *'));
  const update = await planSync(client, changed, ENV);
  expect(update.entries).toMatchObject([
    { op: 'update', id: DAILY, changes: { cron: { from: '0 3 * * *', to: '30 4 * * *' } } },
  ]);
  expect(formatPlan(update)).toContain(`~ ${DAILY}  cron: "0 3 * * *" → "30 4 * * *"`);
  await applySync(client, update);
  const updated = await client.schedule.getHandle(DAILY).describe();
  expect(updated.info.createdAt).toEqual(created.info.createdAt);
  expect(updated.state).toMatchObject({ paused: true, note: 'incident 4711' });

  // The weekly schedule leaves the config: deleted. The foreign one stays.
  const removed = withSchedules((s) => delete s['weekly-retrain'], changed);
  const del = await planSync(client, removed, ENV);
  expect(del.entries.map((e) => [e.op, e.id])).toEqual([['delete', WEEKLY]]);
  await applySync(client, del);
  // describe reads the schedule itself (the list is eventually consistent and may still show it).
  await expect(client.schedule.getHandle(WEEKLY).describe()).rejects.toThrow(ScheduleNotFoundError);
  await client.schedule.getHandle(DAILY).describe();
  // The whole pipeline leaves the config: its remaining schedule goes too; the foreign one stays.
  const withoutPipeline = structuredClone(removed);
  delete withoutPipeline.pipelines.nightly;
  const gone = await planSync(client, withoutPipeline, ENV);
  expect(gone.entries.map((e) => [e.op, e.id])).toEqual([['delete', DAILY]]);
  await applySync(client, gone);
  await expect(client.schedule.getHandle(DAILY).describe()).rejects.toThrow(ScheduleNotFoundError);
  expect((await foreign.describe()).state).toMatchObject({ paused: true, note: 'not ours' });
  await foreign.delete();
});

test('trigger starts the partition run; a 7-day backfill starts 7 runs, a second one starts none; data-ready and a firing for one partition are one run', async () => {
  await withWorker(
    async () => {
      const config = iso.config;
      await applySync(client, await planSync(client, config, ENV));
      await pauseSchedule(client, DAILY, false, 'back to normal');
      expect(await describeSchedule(client, DAILY)).toMatchObject({ paused: false, note: 'back to normal' });

      await triggerSchedule(client, DAILY);
      const [triggered] = await eventually(async () => {
        const runs = await scheduledRuns(DAILY);
        return runs.length ? runs : undefined;
      }, 30_000);
      expect(triggered!.outcome).toBe('started');
      expect(triggered!.workflowId).toBe(`training:sched:nightly:all:${triggered!.partition}`);
      expect(await (await client.workflow.getHandle(triggered!.workflowId).describe()).staticSummary()).toBe(
        `Training nightly · sched · ${triggered!.partition} (scheduled)`,
      );

      // Data-ready for one day of the backfill range arrives first: the firing attaches to that run.
      // Its job is held RUNNING, so the run (and the firing following it) is still open when the
      // backfill repeats: a run that had ended would let a repeated firing start (and attach) again.
      await emulatorControl().addRule({
        match: { project: iso.project, labels: { 'ct-partition': '2031-03-04' } },
        script: { holdIn: 'RUNNING' },
      });
      await sendDataReady(
        client,
        config,
        { environment: ENV, dataset: 'nightly_data', partition: '2031-03-04' },
        { taskQueue: SCHED_QUEUE },
      );
      const from = new Date('2031-03-01T17:00:00Z'); // 02:00 on 3/2 in Tokyo; fires 03:00 Tokyo → partition 3/1
      const to = new Date('2031-03-08T17:00:00Z');
      const before = (await scheduledRuns(DAILY)).length;
      await backfillSchedule(client, DAILY, from, to);
      const firstBackfill = await eventually(async () => {
        const runs = (await scheduledRuns(DAILY)).filter((r) => r.partition.startsWith('2031-03'));
        return runs.length === 7 ? runs : undefined;
      }, 60_000);
      expect(firstBackfill.map((r) => r.partition).sort()).toEqual([
        '2031-03-01',
        '2031-03-02',
        '2031-03-03',
        '2031-03-04',
        '2031-03-05',
        '2031-03-06',
        '2031-03-07',
      ]);
      expect(firstBackfill.filter((r) => r.outcome === 'started')).toHaveLength(6);
      expect(firstBackfill.find((r) => r.partition === '2031-03-04')?.outcome).toBe('attached');

      // The same firings again: each one's id (schedule id + scheduled time) is still following its
      // run, so the server starts nothing; had they finished, each would find its run finished.
      await backfillSchedule(client, DAILY, from, to);
      // Then one new day: the scheduler handles backfills in order, so once this firing has run,
      // the repeated backfill before it has been handled too — and must have added nothing.
      await backfillSchedule(client, DAILY, to, new Date('2031-03-09T17:00:00Z'));
      const second = await eventually(async () => {
        const runs = (await scheduledRuns(DAILY)).filter((r) => r.partition.startsWith('2031-03'));
        return runs.some((r) => r.partition === '2031-03-08') ? runs : undefined;
      }, 60_000);
      expect(second.map((r) => r.partition).sort()).toEqual(
        [...firstBackfill.map((r) => r.partition), '2031-03-08'].sort(),
      );
      expect((await scheduledRuns(DAILY)).length).toBe(before + 8);
      for (const p of ['2031-03-01', '2031-03-07'])
        expect((await client.workflow.getHandle(`training:sched:nightly:all:${p}`).describe()).status.name).toBe(
          'RUNNING',
        );
      // The triggered firing knows its own cost: its start and its two activities so far (start the
      // run, follow it: still following, as its run waits for data), at its pipeline's region's prices.
      const firingCost = await eventually(async () => {
        for await (const w of client.workflow.list({
          query: `WorkflowType = "${scheduledRunWorkflowType}" AND TemporalScheduledById = "${DAILY}" AND ExecutionStatus = "Running"`,
        })) {
          const s = await client.workflow.getHandle(w.workflowId, w.runId).query(scheduledRunQuery);
          if (s.workflowId === triggered!.workflowId) return s.cost;
        }
      });
      expect(firingCost.actions).toEqual({ total: 3, byKind: { start: 1, 'activity-attempt': 2 } });
      expect(firingCost).toMatchObject({ temporalUsd: 0.00015, asOf: pricesOnce().asOf, currency: 'USD' });
      for (const r of second) await client.workflow.getHandle(r.workflowId).cancel();
      await client.workflow.getHandle(triggered!.workflowId).cancel();
    },
    { taskQueue: SCHED_QUEUE, project: iso },
  );
});

test('schedules (and an operator pause) survive a restart of the dev server on its SQLite file', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ct-sched-restart-'));
  const ports = { port: await freePort(), httpPort: await freePort(), metricsPort: await freePort() };
  const start = () =>
    startTemporalDevServer({
      binary: readToolPaths().temporal,
      ip: '127.0.0.1',
      ...ports,
      namespace: 'ct-test',
      dbFile: path.join(tmp, 'temporal.sqlite'),
      logFile: path.join(tmp, 'temporal.log'),
    });
  let server = await start();
  try {
    let own = await Connection.connect({ address: server.address });
    let c = new Client({ connection: own, namespace: 'ct-test' });
    expect(await applySync(c, await planSync(c, iso.config, ENV))).toBe(2);
    await pauseSchedule(c, DAILY, true, 'paused before the restart');
    await own.close();

    await server.service.stop();
    server = await start();
    own = await Connection.connect({ address: server.address });
    c = new Client({ connection: own, namespace: 'ct-test' });
    expect(await describeSchedule(c, DAILY)).toMatchObject({ paused: true, note: 'paused before the restart' });
    expect(await planSync(c, iso.config, ENV)).toMatchObject({ entries: [], unchanged: 2 });
    await own.close();
  } finally {
    await server.service.stop();
  }
});

test('pause-on-failure: a firing whose run fails pauses its schedule, with the reason in the note', async () => {
  await withWorker(
    async () => {
      const id = 'ct:doom:impatient-fail:every-15s';
      await applySync(client, await planSync(client, iso.config, 'doom'));
      // The run waits 2 s for data that never comes and fails; the firing that follows it fails too.
      const paused = await eventually(async () => {
        const d = await describeSchedule(client, id);
        return d.paused ? d : undefined;
      }, 60_000);
      expect(paused.note).toMatch(/fail/i);
      const firings = await scheduledRuns(id);
      const firstFiring = (await describeSchedule(client, id)).recentActions[0]!.workflowId;
      await maybeSaveHistory(client.workflow.getHandle(firstFiring), 'scheduled-run-failed');
      expect(firings.filter((f) => f.outcome === 'started')).toHaveLength(1);
      expect(firings[0]!.workflowId).toMatch(/^training:doom:impatient-fail:all:/);
    },
    { taskQueue: DOOM_QUEUE, project: iso },
  );
});
