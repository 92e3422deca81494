// The `ct` CLI as a script or a person runs it: a real process, real exit codes, against the
// test stack (the suite's config sends its runs to a task queue of its own, which its worker polls).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTrainingRun } from '../../client/training';
import { trainingRunId, trainingStatusQuery } from '../../contracts';
import { uniqueId, withWorker } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { freePort } from '../../stack/process';
import { emulatorControl } from '../helpers/vertex';
import { testStack } from '../setup/test-stack';
import { uniquePartition } from '../helpers/isolation';
import {
  approvalModel,
  batchPrediction,
  customJobTraining,
  dailyData,
  kfpTraining,
  modelRegistry,
  monthlyData,
  nightlySchedules,
  onQueue,
  projectWith,
  snsData,
  snsSegments,
  type PipelineSpec,
} from '../helpers/pipelines';

const root = path.join(__dirname, '..', '..');

// The runs go to one task queue of the suite's own, which its worker polls (the schedules' to another).
const taskQueue = uniqueId('cli');
const cli = onQueue(taskQueue);
/** A pipeline that predicts per country × SNS (`countries` × instagram, youtube, tiktok). */
const predicting = (countries: string[]): PipelineSpec => ({
  environments: { predict: cli },
  data: dailyData(['predicted_data']),
  training: kfpTraining,
  model: { registry: modelRegistry },
  prediction: batchPrediction({ countries, sns: ['instagram', 'youtube', 'tiktok'] }),
});
const iso = projectWith({
  // Per segment; jp-youtube alone waits for youtube_posts (and user_profiles).
  engagement: { environments: { staging: cli }, data: snsData, training: kfpTraining, segments: snsSegments },
  churn: { environments: { staging: cli }, data: monthlyData(['creator_activity']), training: customJobTraining },
  // Promotes only when a person approves; silence for an hour rejects.
  reviewed: {
    environments: { models: cli },
    data: dailyData(['reviewed_data']),
    training: kfpTraining,
    model: approvalModel,
  },
  // `ct predict` names the pipelines that predict when asked for one that does not.
  predicted: predicting(['JP', 'US', 'BR']),
  'predicted-strict': predicting(['JP']),
  'predicted-fresh': predicting(['JP']),
  // An environment of its own (clisched), so the schedule tests running beside this one see none of it.
  nightly: {
    environments: { clisched: onQueue(`${taskQueue}-sched`) },
    data: dailyData(['nightly_data']),
    training: customJobTraining,
    schedules: nightlySchedules,
  },
});
afterAll(() => iso.cleanup());

/** Runs the CLI as a separate process; async, so this process's worker keeps serving meanwhile. */
function ct(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return ctWith({ TEMPORAL_ADDRESS: testStack().CT_TEST_TEMPORAL_ADDRESS }, ...args);
}

function ctWith(
  env: Record<string, string | undefined>,
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // bin/ct.cjs is what `npx ct` runs from a clone.
  const child = spawn(process.execPath, [path.join(root, 'bin', 'ct.cjs'), '--config', iso.configPath, ...args], {
    cwd: root,
    // The human form of its messages (piped, ct would write JSON lines: test/observability/metrics.test.ts).
    env: { ...process.env, TEMPORAL_ADDRESS: undefined, CT_LOG_FORMAT: 'pretty', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

test('data-ready reaches the runs and reports what each waits for; --json for scripts', async () => {
  await withWorker(
    async (ctx) => {
      const partition = uniquePartition('daily');
      const out = await ct(
        '--json',
        'data-ready',
        '--env',
        'staging',
        '--dataset',
        'youtube_posts',
        '--partition',
        partition,
        '--uri',
        'gs://lake/yt',
      );
      expect(out.stderr).toBe('');
      expect(out.code).toBe(0);
      const report = JSON.parse(out.stdout) as { reached: { segment: string; waitingFor: string[] }[] };
      expect(report.reached.map((r) => [r.segment, r.waitingFor])).toEqual([['jp-youtube', ['user_profiles']]]);
      const handle = ctx.client.workflow.getHandle(
        trainingRunId({ pipeline: 'engagement', environment: 'staging', partition, segment: 'jp-youtube' }),
      );
      expect(
        (await handle.query(trainingStatusQuery)).datasets.find((d) => d.dataset === 'youtube_posts'),
      ).toMatchObject({ ready: true, uri: 'gs://lake/yt', source: 'ct-cli' });
      await handle.cancel();
    },
    { taskQueue, project: iso },
  );
});

test('bad input: the reason and a non-zero exit, never a stack trace', async () => {
  const unknown = await ct('data-ready', '--env', 'staging', '--dataset', 'tweets', '--partition', '2030-01-01');
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toMatch(
    /^ct: no pipeline in environment "staging" waits for dataset "tweets".*datasets it knows: .*instagram_posts/,
  );
  expect(unknown.stderr).not.toMatch(/\n\s+at /);

  const segment = await ct(
    'train',
    '--pipeline',
    'engagement',
    '--env',
    'staging',
    '--partition',
    '2030-01-01',
    '--segment',
    'de-tiktok',
  );
  expect(segment.code).toBe(1);
  expect(segment.stderr).toMatch(/segment "de-tiktok" is not trained by engagement/);

  const usage = await ct('data-ready', '--env', 'staging');
  expect(usage.code).toBe(2);
  expect(usage.stderr).toMatch(/required option '--dataset <name>' not specified/);

  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'ct-cfg-')), 'broken.yaml');
  writeFileSync(file, 'version: 1\npipelines:\n  p:\n    environments: {}\n');
  const invalid = await ct('validate', file);
  expect(invalid.code).toBe(1);
  expect(invalid.stderr).toMatch(/broken\.yaml: invalid pipeline config/);
  expect(invalid.stderr).toMatch(/line 4:\d+: pipelines\.p\.environments: declare at least one environment/);
});

test('approve / reject: exit 0 with the decision, exit 1 with the reason the run refused it', async () => {
  await withWorker(
    async (ctx) => {
      const partition = uniquePartition('daily');
      const handle = await startTrainingRun(ctx.client, iso.config, {
        pipeline: 'reviewed',
        environment: 'models',
        partition,
        assumeDataReady: true,
      });
      await eventually(
        async () => ((await handle.query(trainingStatusQuery)).phase === 'awaiting-approval' ? true : undefined),
        30_000,
      );
      const run = ['--pipeline', 'reviewed', '--env', 'models', '--partition', partition];

      const noReason = await ct('reject', ...run, '--by', 'dana');
      expect([noReason.code, noReason.stderr.trim()]).toEqual([1, 'ct: a reject must say why (--reason)']);

      const approved = await ct('--json', 'approve', ...run, '--by', 'dana', '--reason', 'A/B looked fine');
      expect(approved.stderr).toBe('');
      expect(approved.code).toBe(0);
      expect(JSON.parse(approved.stdout)).toMatchObject({ workflowId: handle.workflowId, decision: 'approved' });

      const again = await ct('approve', ...run, '--by', 'erin');
      expect(again.code).toBe(1);
      // Refused by the run while it promotes, or by the client once it has finished: either way, who decided.
      expect(again.stderr).toMatch(
        /^ct: approve refused: run training:models:reviewed:all:\S+ (was already approved by dana at |has finished: succeeded; its candidate was approved by dana at )/,
      );
      expect(await handle.result()).toMatchObject({
        status: 'succeeded',
        approval: { by: 'dana', reason: 'A/B looked fine' },
      });
    },
    { taskQueue, project: iso },
  );
});

test('rollout: bad input and a pipeline that does not serve are refused with the reason and exit 1', async () => {
  const notServing = await ct('rollout', 'start', '--pipeline', 'reviewed', '--env', 'models', '--version', '2');
  expect(notServing.code).toBe(1);
  expect(notServing.stderr.trim()).toBe(
    'ct: pipeline reviewed does not serve online in models (no serving: section for it); pipelines that serve: none',
  );
  const badVersion = await ct('rollout', 'start', '--pipeline', 'reviewed', '--env', 'models', '--version', 'latest');
  expect(badVersion.code).toBe(1);
  expect(badVersion.stderr).toMatch(/^ct: invalid rollout:\n✖ a Model Registry version id, e\.g\. 3\n {2}→ at version/);
  const none = await ct('rollout', 'status', '--pipeline', 'reviewed', '--env', 'models');
  expect(none.code).toBe(1);
  expect(none.stderr.trim()).toBe('ct: no rollout rollout:models:reviewed:all');
});

test('predict: bad input gets the reason and exit 1', async () => {
  const none = await ct('predict', '--pipeline', 'engagement', '--env', 'staging', '--partition', '2030-01-01');
  expect(none.code).toBe(1);
  expect(none.stderr.trim()).toMatch(
    /^ct: pipeline engagement has no prediction: section; pipelines that predict: predicted, predicted-strict, predicted-fresh(, |$)/,
  );
  const segment = await ct(
    'predict',
    '--pipeline',
    'predicted',
    '--env',
    'predict',
    '--partition',
    '2030-01-01',
    '--segment',
    'de-tiktok',
  );
  expect(segment.code).toBe(1);
  expect(segment.stderr).toMatch(/^ct: segment de-tiktok not in predicted's prediction matrix; it has jp-instagram, /);
});

test('schedules: dry-run writes nothing, an invalid config writes nothing, sync then a no-op sync, bad ids and missing notes refused', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-sched-cli-'));
  const dry = await ct('--json', 'schedules', 'sync', '--env', 'clisched', '--dry-run');
  expect([dry.code, dry.stderr]).toEqual([0, '']);
  expect(JSON.parse(dry.stdout)).toMatchObject({
    dryRun: true,
    writes: 0,
    entries: [
      { op: 'create', id: 'ct:clisched:nightly:daily' },
      { op: 'create', id: 'ct:clisched:nightly:weekly-retrain' },
    ],
  });
  expect(JSON.parse((await ct('--json', 'schedules', 'list', '--env', 'clisched')).stdout)).toEqual([]);

  // The same config, its daily schedule given an interval besides its cron.
  const bad = path.join(dir, 'broken.yaml');
  const broken = JSON.parse(readFileSync(iso.configPath, 'utf8')) as {
    pipelines: { nightly: { schedules: { daily: Record<string, unknown> } } };
  };
  broken.pipelines.nightly.schedules.daily.interval = '1d';
  writeFileSync(bad, JSON.stringify(broken, null, 2));
  const refused = await ct('--config', bad, 'schedules', 'sync', '--env', 'clisched');
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(
    /broken\.yaml.*pipelines\.nightly\.schedules\.daily.*give exactly one of cron, interval, calendar/s,
  );
  expect(JSON.parse((await ct('--json', 'schedules', 'list', '--env', 'clisched')).stdout)).toEqual([]);

  const sync = await ct('schedules', 'sync', '--env', 'clisched');
  expect(sync.code).toBe(0);
  expect(sync.stdout).toContain('+ ct:clisched:nightly:daily');
  expect(sync.stdout).toContain('applied: 2 write(s)');
  const noop = await ct('schedules', 'sync', '--env', 'clisched');
  expect(noop.stdout.trim().split('\n')).toEqual([
    'clisched: 0 to create, 0 to update, 0 to delete, 2 unchanged',
    'applied: 0 write(s)',
  ]);

  const paused = await ct('schedules', 'pause', 'ct:clisched:nightly:daily', '--note', 'incident 12');
  expect([paused.code, paused.stdout.trim()]).toEqual([0, 'ct:clisched:nightly:daily: paused — incident 12']);
  const noNote = await ct('schedules', 'unpause', 'ct:clisched:nightly:daily');
  expect(noNote.code).toBe(2);
  expect(noNote.stderr).toMatch(/required option '--note <why>' not specified/);
  const badId = await ct('schedules', 'describe', 'daily');
  expect([badId.code, badId.stderr.trim()]).toEqual([
    1,
    'ct: "daily" is not a ct schedule id (ct:{environment}:{pipeline}:{name}); see ct schedules list',
  ]);
});

test('connects the way the Temporal CLI does: an envconfig profile from a TOML file; an unknown profile is refused', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-profile-'));
  const toml = path.join(dir, 'temporal.toml');
  writeFileSync(toml, `[profile.ci]\naddress = "${testStack().CT_TEST_TEMPORAL_ADDRESS}"\nnamespace = "ct-test"\n`);
  const ok = await ctWith(
    { TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'ci' },
    '--json',
    'schedules',
    'list',
    '--env',
    'nowhere',
  );
  expect([ok.code, ok.stderr]).toEqual([0, '']);
  expect(JSON.parse(ok.stdout)).toEqual([]);
  const missing = await ctWith({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' }, 'schedules', 'list');
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/^ct: Temporal connection profile: .*prod/);
  // Nothing listens there: the operator is told where ct looked and how to point it elsewhere.
  const nowhere = `127.0.0.1:${await freePort()}`;
  const unreachable = await ctWith({ TEMPORAL_ADDRESS: nowhere }, 'schedules', 'list');
  expect(unreachable.code).toBe(1);
  expect(unreachable.stderr).toMatch(new RegExp(`^ct: cannot reach Temporal at ${nowhere}: .*TEMPORAL_ADDRESS`));
  expect(unreachable.stderr).not.toMatch(/\n\s+at /);
});

test('status, list and cancel a run by its identity; the cancel reaches the Vertex job', async () => {
  await withWorker(
    async (ctx) => {
      const month = uniquePartition('monthly'); // churn is monthly
      await emulatorControl().addRule({
        match: { project: ctx.project, labels: { 'ct-partition': month } },
        script: { holdIn: 'RUNNING' },
      });
      const run = ['--pipeline', 'churn', '--env', 'staging', '--partition', month];
      const started = await ct('train', ...run, '--assume-data-ready');
      expect(started.code).toBe(0);
      const id = `training:staging:churn:all:${month}`;
      const status = await eventually(async () => {
        const s = await ct('--json', 'status', ...run);
        const parsed = JSON.parse(s.stdout) as {
          status: string;
          detail?: { phase: string; job?: { consoleUrl: string } };
        };
        return parsed.detail?.phase === 'running' ? parsed : undefined;
      }, 30_000);
      expect(status).toMatchObject({
        status: 'RUNNING',
        detail: { job: { consoleUrl: expect.stringContaining('console.cloud.google.com') as unknown } },
      });
      const human = await ct('status', '--id', id);
      expect(human.stdout).toMatch(
        new RegExp(
          `^${id}: running · running\\nVertex job (QUEUED|PENDING|RUNNING): https://console.cloud.google.com/`,
        ),
      );

      const listed = await eventually(async () => {
        const l = JSON.parse(
          (await ct('--json', 'list', '--pipeline', 'churn', '--env', 'staging', '--status', 'running')).stdout,
        ) as { workflowId: string }[];
        return l.some((r) => r.workflowId === id) ? l : undefined;
      });
      expect(listed.find((r) => r.workflowId === id)).toMatchObject({ status: 'RUNNING', type: 'trainingRun' });

      const cancelled = await ct('cancel', ...run);
      expect(cancelled.stdout.trim()).toBe(
        `${id}: cancel requested; the run cancels its Vertex job and ends Cancelled when the job has`,
      );
      await eventually(
        async () =>
          (JSON.parse((await ct('--json', 'status', '--id', id)).stdout) as { status: string }).status ===
            'CANCELLED' || undefined,
        30_000,
      );
      const jobs = await emulatorControl().jobs({ project: ctx.project, labels: { 'ct-partition': month } });
      expect(jobs.map((j) => j.state.replace('JOB_STATE_', ''))).toEqual(['CANCELLED']);

      const badStatus = await ct('list', '--status', 'sleeping');
      expect([badStatus.code, badStatus.stderr.trim()]).toEqual([
        1,
        'ct: --status is one of running, completed, failed, cancelled, terminated, timed-out',
      ]);
      const noId = await ct('status', '--pipeline', 'churn');
      expect(noId.code).toBe(1);
      expect(noId.stderr).toContain('name the run: --id, or --pipeline, --env and --partition');
    },
    { taskQueue, project: iso },
  );
});
