// Bad input, generated: every workflow type the worker registers, every Update and signal, the
// library functions and every `ct` command get payloads with one field wrong (fast-check picks the
// field and the wrong value), on the real dev server with the real worker. Each must be refused or
// fail its run at once as InvalidInput with a message naming that field, and afterwards: no
// workflow task failed, no run is left running, and nothing was made on Vertex or in GCS.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import fc from 'fast-check';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { runCli } from '../../client/cli/program';
import { decideCandidate } from '../../client/model';
import { startWaitForModel } from '../../client/model';
import { startPredictionRun } from '../../client/prediction';
import { sendDataReady, startTrainingFanout, startTrainingRun } from '../../client/training';
import { loadConfig } from '../../config/load-config';
import {
  approveUpdate,
  dataReadyUpdate,
  INVALID_INPUT,
  modelReadySignal,
  rejectUpdate,
  releaseSignal,
  trainingRunId,
  trainingStatusQuery,
} from '../../contracts';
import { connectTestClient, testStorage, withWorker } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { emulatorControl } from '../helpers/vertex';
import { testStack } from '../setup/test-stack';

jest.setTimeout(600_000);
// A thousand runs that fail on purpose: the worker's per-run warnings would bury the counts.
Runtime.install({ logger: new DefaultLogger('ERROR') });

const { EventType } = temporal.api.enums.v1;
const configPath = path.join(__dirname, '..', 'fixtures', 'config', 'fuzz.yaml');
const config = loadConfig(configPath);
const TASK_QUEUE = 'ct-test-fuzz';
const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'ct-fuzz-'));
const SEED = Number(process.env.CT_FUZZ_SEED ?? Date.now() % 1_000_000);
/** Cases per entry point, scaled so one CI run throws well over 1,000 in all. */
const RUNS = Number(process.env.CT_FUZZ_RUNS ?? 40);

// ---- Wrong values, each checked against an oracle of the test's own so none is accidentally right.

const isRealPartition = (v: unknown, format: 'daily' | 'hourly' | 'monthly') => {
  const shapes = {
    daily: /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/,
    hourly: /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2})$/,
    monthly: /^([0-9]{4})-([0-9]{2})$/,
  };
  const m = typeof v === 'string' ? shapes[format].exec(v) : null;
  if (!m) return false;
  const [y, mo, d = 1, h = 0] = m.slice(1).map(Number) as [number, number, number?, number?];
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h);
  return (
    y >= 1 && t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d && t.getUTCHours() === h
  );
};
const two = (lo: number, hi: number) => fc.integer({ min: lo, max: hi }).map((n) => String(n).padStart(2, '0'));
const notAString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
);
/** Not a real partition of `format`: impossible days, months and hours, other formats, junk. */
const badPartition = (format: 'daily' | 'hourly' | 'monthly') =>
  fc
    .oneof(
      fc
        .tuple(fc.integer({ min: 2000, max: 2099 }), two(0, 13), two(0, 32), two(0, 25))
        .chain(([y, m, d, h]) => fc.constantFrom(`${y}-${m}`, `${y}-${m}-${d}`, `${y}-${m}-${d}T${h}`)),
      fc.constantFrom(
        '2026-02-30',
        '2026-02-29',
        '2025-04-31',
        '2026-11-21T24',
        '2026-13',
        '2026-00',
        'yesterday',
        '',
        '20261121',
        '2026-11-21 07',
      ),
      fc.string({ maxLength: 15 }),
    )
    .filter((v) => !isRealPartition(v, format))
    .map((v) => v as unknown)
    .chain((v) => fc.oneof({ weight: 5, arbitrary: fc.constant(v) }, { weight: 1, arbitrary: notAString }));
/** A name the config does not have (or not a name at all). */
const badName = (known: string[]) =>
  fc
    .oneof(
      fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/),
      fc.constantFrom('', 'Staging', 'prod uction', 'ß', 'x'.repeat(300), 'jp-', '../etc'),
      fc.constantFrom(...known.map((k) => k.toUpperCase()), ...known.map((k) => `${k}x`)),
    )
    .filter((v) => !known.includes(v))
    .map((v) => v as unknown)
    .chain((v) => fc.oneof({ weight: 5, arbitrary: fc.constant(v) }, { weight: 1, arbitrary: notAString }));
const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};
const badTimeZone = fc
  .oneof(
    fc.constantFrom('Mars/Olympus_Mons', 'UTC+25', 'Asia/Tokio', 'EST5EDTX', '', 'Europe/'),
    fc.stringMatching(/^[A-Z][a-z]{2,8}\/[A-Z][a-z]{2,8}$/),
  )
  .filter((tz) => !isTimeZone(tz));
const extraKey = fc.stringMatching(/^[a-z][a-zA-Z]{3,10}$/).map((k) => `zz${k}`);

interface Case {
  field: string;
  payload: unknown;
}
/** One field of `base` made wrong (or an extra key, or the whole payload not an object). */
function cases(base: Record<string, unknown>, wrong: Record<string, fc.Arbitrary<unknown>>, n = RUNS): Case[] {
  const one = fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .constantFrom(...Object.keys(wrong))
        .chain((field) => wrong[field]!.map((v) => ({ field, payload: { ...base, [field]: v } }))),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(extraKey, fc.jsonValue()).map(([k, v]) => ({ field: k, payload: { ...base, [k]: v } })),
    },
    {
      weight: 1,
      arbitrary: fc
        .oneof(fc.integer(), fc.string(), fc.constant(null), fc.array(fc.integer()))
        .map((v) => ({ field: 'input', payload: v })),
    },
  );
  return fc.sample(one, { numRuns: n, seed: SEED + Object.keys(base).length * 7919 + n });
}

// ---- The entry points' valid inputs and what may be wrong in each.

/** The fuzz config with one setting wrong, as a file for `ct validate` (field: where it goes). */
function brokenConfig(field: string, value: string): string {
  const doc = parseYaml(readFileSync(configPath, 'utf8')) as {
    pipelines: Record<
      string,
      { data: { partition: unknown }; schedules?: Record<string, { timezone?: unknown; environments?: unknown }> }
    >;
  };
  const daily = doc.pipelines['fz-daily']!;
  if (field === 'partition')
    daily.data.partition = ['daily', 'hourly', 'monthly'].includes(value) ? `${value}ly` : value;
  if (field === 'timezone') daily.schedules!.nightly!.timezone = isTimeZone(value) ? `${value}/Nowhere` : value;
  if (field === 'environments') daily.schedules!.nightly!.environments = [value === 'fuzz' ? 'fuzzy' : value];
  const file = path.join(tmpDir, `broken-${randomUUID().slice(0, 8)}.yaml`);
  writeFileSync(file, stringifyYaml(doc));
  return file;
}

const segments = ['jp-instagram', 'jp-youtube', 'us-instagram', 'us-youtube'];
const pipelines = Object.keys(config.pipelines);
const wrongSegments = fc.array(
  fc.stringMatching(/^[a-z]{2}-[a-z]{3,8}$/).filter((s) => !segments.includes(s)),
  { minLength: 1, maxLength: 3 },
);

const workflowCases: Record<string, Case[]> = {
  trainingRun: cases(
    { pipeline: 'fz-daily', environment: 'fuzz', partition: '2031-05-05', segment: 'jp-instagram' },
    {
      pipeline: badName(pipelines),
      environment: badName(['fuzz']),
      partition: badPartition('daily'),
      segment: badName(segments),
      assumeDataReady: notAString.filter((v) => typeof v !== 'boolean'),
      // Checked against the compiled spec in GCS by the run itself (a client has no spec to read).
      parameters: fc.oneof(
        fc.constant({ epochs: 'ten' }),
        fc.dictionary(fc.stringMatching(/^zz[a-z]{1,6}$/), fc.jsonValue(), { minKeys: 1, maxKeys: 3 }),
        fc.constantFrom(42, 'x', null, [1]),
      ),
    },
  ),
  trainingFanout: cases(
    { pipeline: 'fz-daily', environment: 'fuzz', partition: '2031-05-05' },
    {
      pipeline: badName(pipelines),
      environment: badName(['fuzz']),
      partition: badPartition('daily'),
      segments: fc.oneof(wrongSegments, notAString),
    },
  ),
  predictionRun: cases(
    { pipeline: 'fz-daily', environment: 'fuzz', partition: '2031-05-05' },
    {
      pipeline: badName(['fz-daily']),
      environment: badName(['fuzz']),
      partition: badPartition('daily'),
      segments: fc.oneof(wrongSegments, notAString),
    },
  ),
  predictionSegment: cases(
    { pipeline: 'fz-daily', environment: 'fuzz', partition: '2031-05-05', segment: 'us-youtube' },
    {
      pipeline: badName(['fz-daily']),
      environment: badName(['fuzz']),
      partition: badPartition('daily'),
      segment: badName(segments),
    },
  ),
  routeDataReady: cases(
    { environment: 'fuzz', dataset: 'activity', partition: '2031-05' },
    {
      environment: badName(['fuzz']),
      dataset: badName(['activity', 'user_profiles', 'instagram_posts', 'youtube_posts', 'clicks']),
      partition: badPartition('monthly'),
    },
  ),
  waitForModel: cases(
    { environment: 'fuzz', pipeline: 'fz-monthly', minPartition: '2031-05', timeout: '1h' },
    {
      environment: badName(['fuzz']),
      pipeline: badName(['fz-daily', 'fz-monthly']),
      minPartition: badPartition('monthly'),
      timeout: fc.oneof(fc.constantFrom('1 day', 'forever', '-1h', '1w', '', '1.5h', 'h1'), notAString),
      trainedAfter: badPartition('daily'),
    },
  ),
  scheduledRun: cases(
    {
      environment: 'fuzz',
      pipeline: 'fz-daily',
      schedule: 'nightly',
      action: 'training',
      format: 'daily',
      offset: -1,
      timezone: 'Asia/Tokyo',
    },
    {
      environment: badName(['fuzz']),
      pipeline: badName(['fz-daily']),
      schedule: badName(['nightly']),
      action: badName(['training']),
      format: badName(['daily']),
      offset: fc.oneof(
        fc.double({ noInteger: true }),
        fc.integer({ min: 367 }),
        notAString.filter((v) => typeof v !== 'number'),
      ),
      timezone: fc.oneof(badTimeZone, notAString),
    },
  ),
  stackCheck: cases(
    { bucket: 'ct-test-bucket', objectPrefix: 'fuzz-probe' },
    {
      bucket: fc.oneof(fc.constantFrom('Not A Bucket', 'a', '-x-', 'UPPER', 'b'.repeat(300)), notAString),
      holdSeconds: fc.oneof(
        fc.integer({ max: -1 }),
        fc.integer({ min: 86_401 }),
        fc.double({ noInteger: true, min: 0, max: 10 }),
        notAString.filter((v) => typeof v !== 'number'),
      ),
    },
  ),
};

/** A failure's message (Temporal's, the client's or the CLI's) must name the field that was wrong. */
function namesField(message: string, field: string): boolean {
  // A list field's message may name the one item that is wrong ("segment br-x is not …").
  return message.includes(field) || (field.endsWith('s') && message.includes(field.slice(0, -1)));
}

const counts: Record<string, number> = {};
const problems: string[] = [];
const count = (entry: string) => (counts[entry] = (counts[entry] ?? 0) + 1);

async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

test('generated bad input: refused or failed at once as InvalidInput naming the field; no task failure, nothing left running, nothing made', async () => {
  process.env.TEMPORAL_ADDRESS = testStack().CT_TEST_TEMPORAL_ADDRESS;
  process.env.TEMPORAL_NAMESPACE = testStack().CT_TEST_NAMESPACE;
  const control = emulatorControl();
  const callsBefore = (await control.calls()).at(-1)?.seq ?? 0;
  const started: string[] = [];
  const t0 = Date.now();
  let targets: Record<string, unknown> = {};

  await withWorker(
    async ({ client }) => {
      // ---- Every workflow type, started directly (as the UI's form or another SDK would).
      const direct = Object.entries(workflowCases).flatMap(([type, cs]) => cs.map((c) => ({ type, ...c })));
      await pool(direct, 16, async ({ type, field, payload }) => {
        const workflowId = `fuzz-${type}-${randomUUID().slice(0, 8)}`;
        started.push(workflowId);
        count(`workflow ${type}`);
        const handle = await client.workflow.start(type, {
          taskQueue: TASK_QUEUE,
          workflowId,
          args: [payload],
          workflowExecutionTimeout: '5 minutes',
        });
        const err = await Promise.race([
          handle.result().then(
            () => 'completed',
            (e: unknown) => e,
          ),
          new Promise((r) => setTimeout(() => r('still running after 60 s'), 60_000)),
        ]);
        const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
        if (
          !(cause instanceof ApplicationFailure) ||
          cause.type !== INVALID_INPUT ||
          !cause.nonRetryable ||
          !namesField(cause.message, field)
        ) {
          problems.push(
            `${type} with bad ${field} (${JSON.stringify(payload)}): ${cause instanceof ApplicationFailure ? `${cause.type}: ${cause.message}` : String(err)}`,
          );
        }
      });

      // ---- Updates and signals, on runs that wait (their plans resolved), so validators know the most.
      const month = `20${40 + (SEED % 50)}-0${1 + (SEED % 9)}`;
      const waiting = await startTrainingRun(
        client,
        config,
        { pipeline: 'fz-monthly', environment: 'fuzz', partition: month },
        { taskQueue: TASK_QUEUE, rerun: true },
      );
      await eventually(async () =>
        (await waiting.query(trainingStatusQuery)).phase === 'waiting-for-data' ? true : undefined,
      );
      const modelWait = await startWaitForModel(
        client,
        config,
        { environment: 'fuzz', pipeline: 'fz-monthly', minPartition: month, timeout: '1h' },
        { taskQueue: TASK_QUEUE },
      );
      const stack = await client.workflow.start('stackCheck', {
        taskQueue: TASK_QUEUE,
        workflowId: `fuzz-stack-${randomUUID().slice(0, 8)}`,
        args: [{ bucket: 'ct-test-bucket', objectPrefix: 'fuzz-probe', holdSeconds: 3600 }],
      });
      started.push(waiting.workflowId, modelWait.workflowId, stack.workflowId);

      const updates = [
        ...cases(
          { dataset: 'activity', partition: month, source: 'fuzz' },
          {
            dataset: badName(['activity']),
            partition: fc.oneof(badPartition('monthly'), fc.constantFrom('2031-01', '2031-02')),
            uri: fc.oneof(fc.constant('u'.repeat(2049)), notAString),
            source: fc.oneof(fc.constant('s'.repeat(201)), notAString),
          },
          RUNS * 3,
        ).map((c) => ({ update: dataReadyUpdate, name: 'dataReady', ...c })),
        ...cases(
          { by: 'fuzzer', reason: 'because' },
          {
            by: fc.oneof(fc.constantFrom('', '   ', 'b'.repeat(121)), notAString),
            reason: fc.oneof(fc.constant('r'.repeat(1001)), notAString),
          },
          RUNS * 2,
        ).map((c) => ({ update: approveUpdate, name: 'approve', ...c })),
        ...cases(
          { by: 'fuzzer', reason: 'because' },
          {
            by: fc.oneof(fc.constantFrom('', 'b'.repeat(121)), notAString),
            reason: fc.oneof(fc.constantFrom('', '  ', 'r'.repeat(1001)), notAString),
          },
          RUNS * 2,
        ).map((c) => ({ update: rejectUpdate, name: 'reject', ...c })),
      ];
      await pool(updates, 8, async ({ update, name, field, payload }) => {
        count(`update ${name}`);
        const err = await waiting.executeUpdate(update as typeof dataReadyUpdate, { args: [payload as never] }).then(
          () => 'accepted',
          (e: unknown) => e,
        );
        const message = err instanceof WorkflowUpdateFailedError ? (err.cause?.message ?? err.message) : String(err);
        if (!(err instanceof WorkflowUpdateFailedError) || !namesField(message, field))
          problems.push(`update ${name} with bad ${field} (${JSON.stringify(payload)}): ${message}`);
      });

      // Signals cannot be refused to their sender: malformed ones must change nothing and fail no task.
      const junk = fc.sample(
        fc.oneof(
          fc.anything(),
          fc.record({
            environment: fc.constant('fuzz'),
            pipeline: fc.constant('fz-monthly'),
            segment: fc.constant(null),
            partition: badPartition('monthly'),
          }),
        ),
        { numRuns: RUNS * 2, seed: SEED },
      );
      await pool(junk, 8, async (payload) => {
        count('signal modelReady');
        await modelWait.signal(modelReadySignal, payload as never);
        count('signal release');
        await stack.signal(
          releaseSignal,
          (typeof payload === 'object' && payload !== null && !Array.isArray(payload)
            ? { ...payload, by: 42 }
            : payload) as never,
        );
      });

      // ---- The library functions operators and integrations call (refused before anything starts).
      const opts = { taskQueue: TASK_QUEUE };
      const library: { name: string; cs: Case[]; call: (c: Client, p: unknown) => Promise<unknown> }[] = [
        {
          name: 'startTrainingRun',
          cs: workflowCases.trainingRun!.filter(
            (c) => c.field !== 'parameters' || typeof (c.payload as { parameters: unknown }).parameters !== 'object',
          ),
          call: (c, p) => startTrainingRun(c, config, p, opts),
        },
        {
          name: 'startTrainingFanout',
          cs: workflowCases.trainingFanout!,
          call: (c, p) => startTrainingFanout(c, config, p, opts),
        },
        {
          name: 'startPredictionRun',
          cs: workflowCases.predictionRun!,
          call: (c, p) => startPredictionRun(c, config, p, opts),
        },
        { name: 'sendDataReady', cs: workflowCases.routeDataReady!, call: (c, p) => sendDataReady(c, config, p, opts) },
        {
          name: 'startWaitForModel',
          cs: workflowCases.waitForModel!,
          call: (c, p) => startWaitForModel(c, config, p, opts),
        },
        {
          name: 'decideCandidate',
          cs: cases(
            { pipeline: 'fz-monthly', environment: 'fuzz', partition: month, by: 'fuzzer', reason: 'r' },
            {
              pipeline: badName(pipelines),
              environment: badName(['fuzz']),
              partition: badPartition('monthly'),
              by: fc.oneof(fc.constantFrom('', 'b'.repeat(121)), notAString),
            },
          ).filter((c) => ['pipeline', 'environment', 'partition', 'by'].includes(c.field)),
          call: (c, p) => {
            const { by, reason, ...run } = p as Record<string, string>;
            return decideCandidate(c, config, run as never, 'reject', { by, reason });
          },
        },
      ];
      await pool(
        library.flatMap((l) => l.cs.map((c) => ({ ...l, ...c }))),
        8,
        async ({ name, call, field, payload }) => {
          count(`library ${name}`);
          const err = await call(client, payload).then(
            () => 'accepted',
            (e: unknown) => e,
          );
          const message = err instanceof Error ? err.message : String(err);
          if (!(err instanceof Error) || err.name !== 'TrainingRequestError' || !namesField(message, field))
            problems.push(`${name} with bad ${field} (${JSON.stringify(payload)}): ${message}`);
        },
      );

      // ---- Every `ct` command, in-process (the same runCli the binary runs), with one option wrong.
      const flag = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? 'null'));
      /** A command line as typed: `ct ${words} <wrong value> ${more}`. */
      const words = (line: string) => line.split(' ');
      /** A command line with one value `v` wrong; its error must name `field` (or `named`, when `field` picks the command). */
      const wrong = <F extends string, V>(
        field: fc.Arbitrary<F>,
        v: fc.Arbitrary<V>,
        argv: (v: V, field: F) => string[],
        named?: string,
      ) => fc.record({ field, v }).map(({ field: f, v: x }) => ({ field: named ?? f, argv: argv(x, f) }));
      const the = fc.constant;
      const decisions = fc.constantFrom('approve', 'reject');
      const runCommands = fc.constantFrom('status', 'cancel');
      const cli = fc.sample(
        fc.oneof(
          wrong(the('partition'), badPartition('daily'), (v) => [
            ...words('train --pipeline fz-daily --env fuzz --segment jp-instagram --partition'),
            flag(v),
          ]),
          wrong(the('pipeline'), badName(pipelines), (v) => [
            ...words('train --pipeline'),
            flag(v),
            ...words('--env fuzz --partition 2031-05-05'),
          ]),
          wrong(the('segment'), badName(segments), (v) => [
            ...words('train --pipeline fz-daily --env fuzz --partition 2031-05-05 --segment'),
            flag(v),
          ]),
          wrong(the('partition'), badPartition('daily'), (v) => [
            ...words('train --all-segments --pipeline fz-daily --env fuzz --partition'),
            flag(v),
          ]),
          wrong(the('dataset'), badName(['activity', 'user_profiles', 'clicks']), (v) => [
            ...words('data-ready --env fuzz --dataset'),
            flag(v),
            ...words('--partition 2031-05'),
          ]),
          wrong(the('partition'), badPartition('monthly'), (v) => [
            ...words('data-ready --env fuzz --dataset activity --partition'),
            flag(v),
          ]),
          wrong(the('environment'), badName(['fuzz']), (v) => [
            ...words('data-ready --env'),
            flag(v),
            ...words('--dataset activity --partition 2031-05'),
          ]),
          wrong(the('partition'), badPartition('daily'), (v) => [
            ...words('predict --pipeline fz-daily --env fuzz --partition'),
            flag(v),
          ]),
          wrong(the('segment'), wrongSegments, (v) => [
            ...words('predict --pipeline fz-daily --env fuzz --partition 2031-05-05 --segment'),
            ...v,
          ]),
          wrong(
            decisions,
            badPartition('monthly'),
            (v, cmd) => [
              cmd,
              ...words('--pipeline fz-monthly --env fuzz --partition'),
              flag(v),
              ...words('--by f --reason r'),
            ],
            'partition',
          ),
          wrong(
            decisions,
            fc.constantFrom('', 'b'.repeat(121)),
            (v, cmd) => [
              cmd,
              ...words(`--pipeline fz-monthly --env fuzz --partition ${month} --by`),
              v,
              '--reason',
              'r',
            ],
            'by',
          ),
          wrong(
            runCommands,
            badName(pipelines),
            (v, cmd) => [cmd, '--pipeline', flag(v), ...words('--env fuzz --partition 2031-05')],
            'pipeline',
          ),
          wrong(
            runCommands,
            badPartition('monthly'),
            (v, cmd) => [cmd, ...words('--pipeline fz-monthly --env fuzz --partition'), flag(v)],
            'partition',
          ),
          wrong(
            the('status'),
            badName(['running', 'completed', 'failed', 'cancelled', 'terminated', 'timed-out']),
            (v) => [...words('list --env fuzz --status'), flag(v)],
          ),
          wrong(
            the('limit'),
            fc.oneof(fc.constantFrom('0', '-1', '1.5', 'ten', '', '1e9', ' '), fc.integer({ min: 10_001 }).map(String)),
            (v) => [...words('list --env fuzz --limit'), v],
          ),
          wrong(
            fc.constantFrom('partition', 'timezone', 'environments'),
            fc.oneof(fc.string({ maxLength: 12 }), badTimeZone),
            (v, field) => ['validate', brokenConfig(field, v)],
          ),
          wrong(the('type'), badName(['training', 'prediction']), (v) => [...words('list --env fuzz --type'), flag(v)]),
          wrong(the('environment'), badName(['fuzz']), (v) => [...words('schedules sync --dry-run --env'), flag(v)]),
          wrong(the('incident'), fc.constantFrom('', 'a b', 'x"y', "it's", 'back\\slash', 'i'.repeat(257)), (v) => [
            ...words('alerts runs --env fuzz --incident'),
            v,
          ]),
          wrong(the('limit'), fc.constantFrom('0', '-1', '1.5', 'ten', '', '1e9'), (v) => [
            ...words('alerts runs --env fuzz --incident 0.abc --limit'),
            v,
          ]),
          wrong(
            fc.constantFrom('describe', 'trigger', 'pause', 'unpause'),
            fc.string({ maxLength: 20 }).filter((s) => !/^ct:[^:]+:[^:]+:[^:]+$/.test(s) && !s.startsWith('-')),
            (v, cmd) => ['schedules', cmd, v, ...(cmd.endsWith('pause') ? ['--note', 'n'] : [])],
            'id',
          ),
          wrong(
            fc.constantFrom('from', 'to'),
            fc.constantFrom('yesterday', '2026-02-30T00:00:00Z', 'soon', ''),
            (v, field) => [
              ...words('schedules backfill ct:fuzz:fz-daily:nightly --from'),
              field === 'from' ? v : '2031-01-01T00:00:00Z',
              '--to',
              field === 'to' ? v : '2031-01-02T00:00:00Z',
            ],
          ),
        ),
        { numRuns: RUNS * 4, seed: SEED },
      );
      await pool(cli, 4, async ({ field, argv }) => {
        count(`ct ${argv[0] === 'schedules' || argv[0] === 'alerts' ? `${argv[0]} ${argv[1]}` : argv[0]}`);
        const err: string[] = [];
        const code = await runCli(['--config', configPath, ...argv], { out: () => undefined, err: (t) => err.push(t) });
        const stderr = err.join('\n');
        if (code === 0 || !namesField(stderr, field) || /\n\s+at /.test(stderr))
          problems.push(`ct ${argv.join(' ')}: exit ${code}: ${stderr}`);
      });

      // The runs that waited heard nothing they could take: no Update was accepted, no release, no model.
      const waitingHistory = (await waiting.fetchHistory()).events ?? [];
      targets = {
        updatesInHistory: waitingHistory.filter(
          (e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        ).length,
        datasets: (await waiting.query(trainingStatusQuery)).datasets,
        releasedBy: (await stack.query<{ releasedBy?: string }>('status')).releasedBy ?? null,
        modelWait: (await modelWait.describe()).status.name,
      };
      for (const h of [waiting, modelWait, stack] as WorkflowHandle[]) await h.cancel();
      await Promise.all([waiting, modelWait, stack].map((h: WorkflowHandle) => h.result().catch(() => undefined)));
    },
    { taskQueue: TASK_QUEUE, config },
  );

  // ---- Afterwards: no workflow task failed anywhere, nothing runs, nothing was made.
  const client = await connectTestClient();
  try {
    let taskFailures = 0;
    let running = 0;
    await pool([...new Set(started)], 16, async (id) => {
      const h: WorkflowHandle = client.client.workflow.getHandle(id);
      const events = (await h.fetchHistory()).events ?? [];
      taskFailures += events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED).length;
      if ((await h.describe()).status.name === 'RUNNING') running++;
    });
    // Runs the fuzz did not start itself (a library call or a CLI command that got through) show here.
    const others = await eventually(async () => {
      const open: string[] = [];
      for await (const w of client.client.workflow.list({
        query: `TaskQueue = "${TASK_QUEUE}" AND ExecutionStatus = "Running"`,
      }))
        open.push(w.workflowId);
      return open.length === 0 ? open : undefined;
    }, 30_000).catch(() => 'runs still open on the fuzz queue');
    const made = (await control.calls({ after: callsBefore })).filter(
      (c) => /^(Create\w+Job|UploadModel)$/.test(c.method) && JSON.stringify(c.request).includes('ct-test-fuzz'),
    );
    const jobs = await control.jobs({ labels: { fuzz: 'yes' } });
    const [objects] = await testStorage().bucket('ct-test-bucket').getFiles({ prefix: 'fuzz/' });

    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    process.stdout.write(
      `\nbad-input fuzz (seed ${SEED}, ${((Date.now() - t0) / 1000).toFixed(0)} s): ${total} cases\n${Object.entries(
        counts,
      )
        .sort()
        .map(([k, v]) => `  ${k.padEnd(28)} ${v}`)
        .join(
          '\n',
        )}\nworkflow task failures ${taskFailures} · runs left running ${running} · Vertex creates ${made.length} · jobs ${jobs.length} · GCS objects ${objects.length} · Updates in history ${String(targets.updatesInHistory)} · problems ${problems.length}\n`,
    );
    expect(targets).toEqual({
      updatesInHistory: 0,
      datasets: [{ dataset: 'activity', ready: false }],
      releasedBy: null,
      modelWait: 'RUNNING',
    });
    expect(problems.slice(0, 20)).toEqual([]);
    expect({
      taskFailures,
      running,
      others,
      made: made.length,
      jobs: jobs.length,
      objects: objects.map((o) => o.name),
    }).toEqual({ taskFailures: 0, running: 0, others: [], made: 0, jobs: 0, objects: [] });
    expect(total).toBeGreaterThanOrEqual(1000);
  } finally {
    await client.close();
  }
});

test('the data-ready validator refuses a dataset the run does not wait for, once its plan is known (nothing in history)', async () => {
  await withWorker(
    async ({ client }) => {
      const partition = `20${40 + (SEED % 50)}-1${SEED % 3}`;
      const run = await startTrainingRun(
        client,
        config,
        { pipeline: 'fz-monthly', environment: 'fuzz', partition },
        { taskQueue: TASK_QUEUE, rerun: true },
      );
      await eventually(async () =>
        (await run.query(trainingStatusQuery)).phase === 'waiting-for-data' ? true : undefined,
      );
      const before = (await run.fetchHistory()).events?.length;
      const err = await run
        .executeUpdate(dataReadyUpdate, { args: [{ dataset: 'clicks', partition }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((err as WorkflowUpdateFailedError).cause?.message).toMatch(
        /^dataset: run training:fuzz:fz-monthly:all:\S+ does not wait for dataset "clicks"; it waits for activity$/,
      );
      expect((await run.fetchHistory()).events?.length).toBe(before);
      expect(trainingRunId({ pipeline: 'fz-monthly', environment: 'fuzz', partition })).toBe(run.workflowId);
      await run.cancel();
    },
    { taskQueue: TASK_QUEUE, config },
  );
});
