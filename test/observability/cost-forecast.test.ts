// `ct cost --forecast`: the schedules' firings over the next 30 days, as the server expands their
// specs, times the measured mean cost of recent closed runs of the same pipeline. An environment of
// this test's own (`forecast`) holds its schedules and its run, so no other suite's runs or
// schedules are counted.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { costReport, runCost } from '../../client/cost';
import type { CostForecast } from '../../client/cost-forecast';
import { costForecast } from '../../client/cost-forecast';
import { startTrainingRun } from '../../client/training';
import { applySync, planSync } from '../../client/schedules/sync';
import { pricesOnce } from '../../config/prices';
import { uniquePartition } from '../helpers/isolation';
import { customJobTraining, monthlyData, onQueue, projectWith } from '../helpers/pipelines';
import { uniqueId, withWorker } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { testStack } from '../setup/test-stack';

jest.setTimeout(180_000);

const env = testStack();
const ENV = 'forecast';
const taskQueue = uniqueId('tq-forecast');
// `churn` (a CustomJob, monthly) in `forecast` only, on the test's task queue, with three schedules
// there: a daily cron, every 6 hours, and a weekly one created paused.
const iso = projectWith({
  churn: {
    environments: { [ENV]: onQueue(taskQueue) },
    data: monthlyData(['creator_activity']),
    training: customJobTraining,
    schedules: {
      nightly: { action: 'training', cron: '0 3 * * *', environments: [ENV] },
      'every-6h': { action: 'training', interval: '6h', environments: [ENV] },
      weekly: { action: 'training', cron: '0 5 * * 0', environments: [ENV], paused: { note: 'not yet' } },
    },
  },
});
afterAll(() => iso.cleanup());

test('the forecast: each schedule’s firings in 30 days × the mean cost of the pipeline’s recent runs', async () => {
  const { config, configPath: file } = iso;
  await withWorker(
    async ({ client }) => {
      await applySync(client, await planSync(client, config, ENV));
      const handle = await startTrainingRun(
        client,
        config,
        { pipeline: 'churn', environment: ENV, partition: uniquePartition('monthly'), assumeDataReady: true },
        { taskQueue },
      );
      await handle.result();
      const prices = pricesOnce();
      const run = await runCost(client, handle.workflowId, prices);
      expect(run.totalUsd).toBeGreaterThan(0);
      // Visibility lags: the run is measured once it is listed as closed.
      await eventually(async () => {
        const r = await costReport(client, { since: new Date(Date.now() - 3_600_000), environment: ENV }, prices);
        return r.groups.length ? r : undefined;
      }, 30_000);

      const now = new Date();
      const f = await costForecast(
        client,
        config,
        { environment: ENV, since: new Date(Date.now() - 3_600_000), now },
        prices,
      );
      const line = (name: string) => f.schedules.find((l) => l.scheduleId === `ct:${ENV}:churn:${name}`);
      const measured = {
        kind: 'training',
        pipeline: 'churn',
        runsPerFiring: 1,
        meanRunUsd: run.totalUsd,
        basedOnRuns: 1,
      };
      // A daily cron fires 30 times in 30 days, every 6 hours 120 times, a paused schedule never.
      expect(line('nightly')).toMatchObject({ ...measured, paused: false, firings: 30 });
      expect(line('nightly')!.usd).toBeCloseTo(30 * run.totalUsd, 6);
      expect(line('every-6h')).toMatchObject({ ...measured, paused: false, firings: 120 });
      expect(line('every-6h')!.usd).toBeCloseTo(120 * run.totalUsd, 6);
      expect(line('weekly')).toMatchObject({ ...measured, paused: true, firings: 0, usd: 0 });
      expect(f.totalUsd).toBeCloseTo(150 * run.totalUsd, 6);
      expect(f).toMatchObject({
        environment: ENV,
        unpriced: [],
        to: new Date(now.getTime() + 30 * 86_400_000).toISOString(),
      });

      // With nothing measured (no run closed in the window) nothing is priced, and each firing schedule says so.
      const blind = await costForecast(
        client,
        config,
        { environment: ENV, since: new Date(Date.now() + 60_000) },
        prices,
      );
      expect(blind.totalUsd).toBe(0);
      expect(blind.unpriced.sort()).toEqual([`ct:${ENV}:churn:every-6h`, `ct:${ENV}:churn:nightly`]);

      // `ct cost --forecast --json`, and a forecast of one run refused naming the option.
      const ct = async (...args: string[]) =>
        promisify(execFile)(
          process.execPath,
          [
            path.join(__dirname, '..', '..', 'bin', 'ct.cjs'),
            '--config',
            file,
            '--json',
            'cost',
            '--env',
            ENV,
            ...args,
          ],
          { env: { ...process.env, TEMPORAL_ADDRESS: env.CT_TEST_TEMPORAL_ADDRESS } },
        );
      const printed = JSON.parse((await ct('--forecast', '--since', '1h')).stdout) as CostForecast;
      expect(printed.schedules.map((l) => [l.scheduleId, l.firings, l.usd])).toEqual(
        f.schedules.map((l) => [l.scheduleId, l.firings, l.usd]),
      );
      const refused = (await ct('--forecast', '--id', handle.workflowId).catch((err: unknown) => err)) as {
        code: number;
        stderr: string;
      };
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/--forecast: a forecast is of schedules, not of one run/);

      for (const s of f.schedules) await client.schedule.getHandle(s.scheduleId).delete();
    },
    { config, taskQueue },
  );
});
