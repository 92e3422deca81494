// Flag files as triggers, on the real stack: the production worker (its own process, which starts
// the flag watch itself, workers/main.ts) against fake-gcs-server, each flag written with the real
// Storage client the way a DAG writes it (an empty `_SUCCESS` after its part files, or a flag named
// after its partition), and what it started read from Temporal: the runs, their histories and the
// watch's own status.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  flagWatchId,
  type AwaitFlagsResult,
  flagWatchQuery,
  partitionAt,
  trainingRunId,
  trainingStatusQuery,
  type FlagEvent,
  type FlagWatchStatus,
} from '../../contracts';
import { freePort, type Service } from '../../stack/process';
import { eventually } from '../helpers/eventually';
import { maybeSaveHistory } from '../helpers/histories';
import { customJobTraining, flaggedData, projectWith } from '../helpers/pipelines';
import { connectTestClient, testStorage, uniqueId } from '../helpers/temporal';
import { startWorkerProcess } from '../helpers/worker-process';
import { testStack } from '../setup/test-stack';

jest.setTimeout(180_000);

const BUCKET = uniqueId('flags');
const taskQueue = uniqueId('tq-flags');
// Runs are named by pipeline and partition, and partitions here are today's and the days around it:
// pipeline names of this run's own keep them apart from any other run's.
const tag = uniqueId('f').slice(2);
const SALES = `sales-${tag}`;
const ORDERS = `orders-${tag}`;
const POSTS = `posts-${tag}`;
const CLICKS = `clicks-${tag}`;
const BEATS = `beats-${tag}`;

// Each waits for its flagged dataset and for `features`, which never comes: a run that data-ready
// reached waits on (no Vertex job), and its history says how often data-ready reached it.
const iso = projectWith({
  [SALES]: {
    data: flaggedData(['sales', 'features'], { sales: `gs://${BUCKET}/warehouse/sales/{partition}/_SUCCESS` }),
    training: customJobTraining,
  },
  [ORDERS]: {
    data: flaggedData(['orders', 'features'], { orders: `gs://${BUCKET}/flags/orders_{partition}.done` }),
    training: customJobTraining,
  },
  // One run per country for instagram: {sns} is read from the flag's folder.
  [POSTS]: {
    data: flaggedData(['{sns}_posts', 'features'], {
      '{sns}_posts': `gs://${BUCKET}/warehouse/posts/{sns}/{partition}/_SUCCESS`,
    }),
    segments: { countries: ['JP', 'US'], sns: ['instagram'] },
    training: customJobTraining,
  },
  // A backfill's flags count for 60 days.
  [CLICKS]: {
    data: flaggedData(['clicks', 'features'], {
      clicks: { flag: `gs://${BUCKET}/warehouse/clicks/dt={partition}/_SUCCESS`, window: { late: '60d' } },
    }),
    training: customJobTraining,
  },
  // Written one after another for several intervals (the listing-interval test).
  [BEATS]: {
    data: flaggedData(['beats', 'features'], {
      beats: { flag: `gs://${BUCKET}/warehouse/beats/{partition}/_SUCCESS`, window: { late: '60d' } },
    }),
    training: customJobTraining,
  },
});

const day = (offset: number) => partitionAt(new Date(), 'daily', offset, 'UTC');
const WATCH = flagWatchId('staging', BUCKET);
const storage = testStorage();
const logFile = path.join(testStack().CT_TEST_TMP_DIR, `${uniqueId('flag-worker')}.log`);
let worker: Service | undefined;
let metricsAddress: string;
let client: Client;
let close: () => Promise<void>;

async function startWorker(intervalMs = 200) {
  metricsAddress = `127.0.0.1:${await freePort()}`;
  worker = await startWorkerProcess({
    taskQueue,
    configPath: iso.configPath,
    logFile,
    // Listings every 200 ms; at most 8 flags go to the watch at once, and a watermark trails its
    // listing by 1 s (not 2 minutes), so a flag the watch lost would stay lost (the many-partitions test).
    env: {
      CT_FLAG_WATCH_INTERVAL_MS: String(intervalMs),
      CT_FLAG_WATCH_BATCH: '8',
      CT_FLAG_WATCH_MARGIN_MS: '1000',
      CT_METRICS_ADDRESS: metricsAddress,
    },
  });
}

/** `ct` as its own process (bin/ct.cjs, what `npx ct` runs), `input` on its stdin, as a Pub/Sub subscriber would run it. */
function ct(input: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    [path.join(__dirname, '..', '..', 'bin', 'ct.cjs'), '--config', iso.configPath, ...args],
    {
      env: { ...process.env, TEMPORAL_ADDRESS: testStack().CT_TEST_TEMPORAL_ADDRESS, CT_LOG_FORMAT: 'pretty' },
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Writes an object the way a DAG's last task does (one request, no resumable session); its generation, timeCreated and resource. */
async function write(name: string, body = '') {
  const file = storage.bucket(BUCKET).file(name);
  await file.save(body, { resumable: false });
  return {
    object: name,
    generation: String(file.metadata.generation),
    writtenAt: String(file.metadata.timeCreated),
    resource: file.metadata,
  };
}

const watchStatus = (): Promise<FlagWatchStatus> => client.workflow.getHandle(WATCH).query(flagWatchQuery);

/** The watch's outcome for this generation of this object, once it has one. */
const outcomeOf = (flag: { object: string; generation: string }, timeoutMs = 30_000): Promise<FlagEvent> =>
  eventually(
    async () => (await watchStatus()).recent.find((e) => e.object === flag.object && e.generation === flag.generation),
    timeoutMs,
  );

/** How many data-ready updates a run accepted into its history (each delivery is one). */
async function dataReadyUpdates(workflowId: string): Promise<number> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter(
    (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'dataReady',
  ).length;
}

/** Executions under a workflow id (a second run of a partition would be a second one). */
async function executions(workflowId: string): Promise<number> {
  let n = 0;
  for await (const _ of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) n++;
  return n;
}

async function exists(workflowId: string): Promise<boolean> {
  return client.workflow
    .getHandle(workflowId)
    .describe()
    .then(
      () => true,
      () => false,
    );
}

/** The worker's count of ct_flag_events for an outcome, from its Prometheus endpoint. */
async function flagEvents(outcome: string): Promise<number> {
  const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('ct_flag_events{') && l.includes(`outcome="${outcome}"`))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

/** The start of every listing the watch was handed (each awaitFlags result in its history), oldest first. */
async function listingsRecorded(): Promise<number[]> {
  const events = (await client.workflow.getHandle(WATCH).fetchHistory()).events ?? [];
  const awaitFlags = new Set(
    events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'awaitFlags')
      .map((e) => String(e.eventId)),
  );
  return events
    .map((e) => e.activityTaskCompletedEventAttributes)
    .filter((a) => a && awaitFlags.has(String(a.scheduledEventId)))
    .map((a) => defaultPayloadConverter.fromPayload<AwaitFlagsResult>(a!.result!.payloads![0]!))
    .map((r) => Date.parse(r.listing.at));
}

beforeAll(async () => {
  ({ client, close } = await connectTestClient());
  await storage.createBucket(BUCKET);
  // Written before any watch existed: history, not a trigger.
  await write(`warehouse/sales/${day(-1)}/_SUCCESS`);
  await startWorker();
  // The watch's first listing has seen every group (its watermarks say how far it has looked).
  await eventually(async () => {
    const s = await watchStatus();
    return Object.keys(s.watermarks).length === 2 ? s : undefined;
  }, 30_000);
});

afterAll(async () => {
  await worker?.stop();
  await client.workflow
    .getHandle(WATCH)
    .terminate('test over')
    .catch(() => undefined);
  // Everything the suite did, for test/workflows/replay.test.ts (CT_SAVE_HISTORIES=1).
  await maybeSaveHistory(client.workflow.getHandle(WATCH), 'flag-watch-terminated');
  await close();
  await iso.cleanup();
});

test("a DAG's _SUCCESS after its part files delivers the partition's data-ready: one run, one update, the generation as its source; a flag older than the watch starts nothing", async () => {
  const partition = day(0);
  await write(`warehouse/sales/${partition}/part-00000.parquet`, 'rows');
  await write(`warehouse/sales/${partition}/part-00001.parquet`, 'rows');
  const flag = await write(`warehouse/sales/${partition}/_SUCCESS`);

  const event = await outcomeOf(flag);
  const run = trainingRunId({ environment: 'staging', pipeline: SALES, partition });
  expect(event).toMatchObject({ outcome: 'delivered', dataset: 'sales', partition, runs: [run] });
  const status = await client.workflow.getHandle(run).query(trainingStatusQuery);
  expect(status.datasets).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        dataset: 'sales',
        ready: true,
        uri: `gs://${BUCKET}/${flag.object}`,
        source: `gcs-flag generation ${flag.generation}`,
      }),
    ]),
  );
  // The part files are no flags; later listings pass over the flag.
  await new Promise((r) => setTimeout(r, 1_000));
  expect(await dataReadyUpdates(run)).toBe(1);
  expect(await executions(run)).toBe(1);
  expect((await watchStatus()).recent.filter((e) => e.object.startsWith(`warehouse/sales/${partition}/`))).toHaveLength(
    1,
  );
  // Yesterday's flag was there before the watch's first listing.
  expect(await exists(trainingRunId({ environment: 'staging', pipeline: SALES, partition: day(-1) }))).toBe(false);
});

test('a flag named after its partition (flags/orders_{partition}.done) delivers it', async () => {
  const partition = day(0);
  const flag = await write(`flags/orders_${partition}.done`);
  expect(await outcomeOf(flag)).toMatchObject({
    outcome: 'delivered',
    dataset: 'orders',
    partition,
    runs: [trainingRunId({ environment: 'staging', pipeline: ORDERS, partition })],
  });
});

test('a rewritten flag (a new generation) is reported in the status, the log and ct_flag_events, and starts nothing more', async () => {
  const partition = day(-1);
  const run = trainingRunId({ environment: 'staging', pipeline: ORDERS, partition });
  const first = await write(`flags/orders_${partition}.done`);
  expect(await outcomeOf(first)).toMatchObject({ outcome: 'delivered', runs: [run] });
  const rewrittenBefore = await flagEvents('rewritten');

  // The DAG is re-run: the same object, written again.
  const second = await write(`flags/orders_${partition}.done`);
  expect(second.generation).not.toBe(first.generation);
  const report = await outcomeOf(second);
  expect(report).toMatchObject({
    outcome: 'rewritten',
    dataset: 'orders',
    partition,
    delivered: { generation: first.generation },
  });
  expect(report.reason).toContain(`generation ${second.generation} is reported, not delivered again`);
  expect(await dataReadyUpdates(run)).toBe(1);
  expect(await executions(run)).toBe(1);
  expect(await eventually(async () => ((await flagEvents('rewritten')) > rewrittenBefore ? true : undefined))).toBe(
    true,
  );
  // The worker's log is written a moment after the activity logs it.
  const logged = await eventually(() => {
    const lines = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('flag rewritten for a partition already delivered') && l.includes(second.generation));
    return lines.length ? lines : undefined;
  });
  expect(logged).toHaveLength(1);
});

test('refused with the reason, starting nothing: outside the window (a month old, the day after tomorrow), not parseable, a dataset no run waits for; the watch runs on with no failed task', async () => {
  const old = await write(`warehouse/sales/${day(-30)}/_SUCCESS`);
  const early = await write(`warehouse/sales/${day(2)}/_SUCCESS`);
  const latest = await write('warehouse/sales/latest/_SUCCESS');
  const notADay = await write(`flags/orders_${day(0).slice(0, 7)}-32.done`);
  const facebook = await write(`warehouse/posts/facebook/${day(0)}/_SUCCESS`);
  const instagram = await write(`warehouse/posts/instagram/${day(0)}/_SUCCESS`);

  expect((await outcomeOf(old)).reason).toMatch(
    new RegExp(
      `^outside the window: partition ${day(-30)} ended .*a flag of sales counts until 7d after its partition ends`,
    ),
  );
  expect((await outcomeOf(early)).reason).toMatch(
    new RegExp(`^outside the window: partition ${day(2)} begins .* after this flag was written`),
  );
  const unparsed = await outcomeOf(latest);
  expect(unparsed.outcome).toBe('refused');
  expect(unparsed.reason).toMatch(/^not parseable: partition "latest" is not daily/);
  expect((await outcomeOf(notADay)).reason).toMatch(/^not parseable: partition "\d{4}-\d{2}-32" is not daily/);
  const unknown = await outcomeOf(facebook);
  expect(unknown).toMatchObject({ outcome: 'refused', dataset: 'facebook_posts' });
  expect(unknown.reason).toContain('no pipeline in environment "staging" waits for dataset "facebook_posts"');
  // The flag of a dataset the runs do wait for reaches each of them (one per country).
  const runs = ['jp-instagram', 'us-instagram'].map((segment) =>
    trainingRunId({ environment: 'staging', pipeline: POSTS, segment, partition: day(0) }),
  );
  expect(await outcomeOf(instagram)).toMatchObject({ outcome: 'delivered', runs });

  for (const partition of [day(-30), day(2)])
    expect(await exists(trainingRunId({ environment: 'staging', pipeline: SALES, partition }))).toBe(false);
  const watch = await client.workflow.getHandle(WATCH).describe();
  expect(watch.status.name).toBe('RUNNING');
  const history = await client.workflow.getHandle(WATCH).fetchHistory();
  expect((history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
});

test('many partitions at once: 40 days of flags written together, each partition delivered to one run once, 8 at a time', async () => {
  const partitions = Array.from({ length: 40 }, (_, i) => day(-i));
  const flags = await Promise.all(partitions.map((p) => write(`warehouse/clicks/dt=${p}/_SUCCESS`)));
  const runs = partitions.map((partition) => trainingRunId({ environment: 'staging', pipeline: CLICKS, partition }));
  await eventually(async () => ((await Promise.all(runs.map(exists))).every(Boolean) ? true : undefined), 60_000);
  // Let the watch list a few more times: nothing is delivered twice.
  await new Promise((r) => setTimeout(r, 1_500));
  expect(await Promise.all(runs.map(dataReadyUpdates))).toEqual(runs.map(() => 1));
  const status = await watchStatus();
  const clicks = status.recent.filter((e) => e.object.startsWith('warehouse/clicks/'));
  // The latest 40 outcomes of the watch are these flags', each delivered (newest first).
  expect(clicks.map((e) => e.outcome)).toEqual(flags.map(() => 'delivered'));
  expect(new Set(clicks.map((e) => e.object))).toEqual(new Set(flags.map((f) => f.object)));
});

test('written late: days after its partition (inside the window), and while no worker ran: each delivered once, by the worker that comes next', async () => {
  const threeDaysLate = await write(`warehouse/sales/${day(-3)}/_SUCCESS`);
  expect(await outcomeOf(threeDaysLate)).toMatchObject({ outcome: 'delivered', partition: day(-3) });

  // The only worker stops (a deploy); the DAG writes its flag meanwhile; a worker starts again.
  await worker!.stop();
  worker = undefined;
  const whileDown = await write(`warehouse/sales/${day(-2)}/_SUCCESS`);
  await new Promise((r) => setTimeout(r, 1_000));
  await startWorker();
  const run = trainingRunId({ environment: 'staging', pipeline: SALES, partition: day(-2) });
  expect(await outcomeOf(whileDown, 60_000)).toMatchObject({ outcome: 'delivered', runs: [run] });
  expect(await dataReadyUpdates(run)).toBe(1);
});

test('flags written one after another for several intervals: the watch lists once per interval, never back to back, and delivers each flag once', async () => {
  const INTERVAL = 2_000;
  await worker!.stop();
  await startWorker(INTERVAL);
  const since = Date.now();
  // 30 partitions, one flag every 350 ms: about five intervals of flags that keep arriving.
  const partitions = Array.from({ length: 30 }, (_, i) => day(-1 - i));
  const flags = [];
  for (const p of partitions) {
    flags.push(await write(`warehouse/beats/${p}/_SUCCESS`));
    await new Promise((r) => setTimeout(r, 350));
  }
  const runs = partitions.map((partition) => trainingRunId({ environment: 'staging', pipeline: BEATS, partition }));
  // Every flag has its outcome in the watch (recorded once its delivery returned).
  for (const flag of flags) await outcomeOf(flag, 60_000);

  const listings = (await listingsRecorded()).filter((at) => at >= since);
  // The watch delivered while flags kept arriving (several listings found some), not all at the end.
  expect(listings.length).toBeGreaterThanOrEqual(3);
  const gaps = listings.slice(1).map((at, i) => at - listings[i]!);
  // 50 ms of slack for the wall clock.
  expect(gaps.filter((gap) => gap < INTERVAL - 50)).toEqual([]);
  expect(await Promise.all(runs.map(dataReadyUpdates))).toEqual(runs.map(() => 1));
  const beats = (await watchStatus()).recent.filter((e) => e.object.startsWith('warehouse/beats/'));
  expect(beats.map((e) => e.outcome)).toEqual(flags.map(() => 'delivered'));
  expect(new Set(beats.map((e) => e.object))).toEqual(new Set(flags.map((f) => f.object)));
});

test('the push form: a Cloud Storage notification handed to the watch by `ct flags notify` is delivered before the next listing, once; one that is no flag changes nothing', async () => {
  // A worker that lists every 10 minutes: whatever is delivered sooner came through the notification.
  await worker!.stop();
  await startWorker(600_000);
  // Its first listing, if one is due at once, is behind it (otherwise it comes 10 minutes after the watch's last).
  await new Promise((r) => setTimeout(r, 5_000));
  const partition = day(-4);
  const flag = await write(`warehouse/sales/${partition}/_SUCCESS`);
  // OBJECT_FINALIZE, payload format JSON, as a Pub/Sub push subscription delivers it.
  const pushed = JSON.stringify({
    message: {
      data: Buffer.from(JSON.stringify(flag.resource)).toString('base64'),
      attributes: { eventType: 'OBJECT_FINALIZE' },
    },
    subscription: 'projects/p/subscriptions/ct-flags',
  });
  const sent = await ct(pushed, 'flags', 'notify', '--env', 'staging');
  expect(sent.stderr).toBe('');
  expect(sent).toMatchObject({ code: 0 });
  expect(sent.stdout).toContain(`handed gs://${BUCKET}/${flag.object} #${flag.generation} to ${WATCH}`);
  const run = trainingRunId({ environment: 'staging', pipeline: SALES, partition });
  expect(await outcomeOf(flag, 20_000)).toMatchObject({ outcome: 'delivered', runs: [run] });
  // The same notification again (Pub/Sub delivers at least once): passed over.
  expect(await ct(pushed, 'flags', 'notify', '--env', 'staging')).toMatchObject({ code: 0 });
  await new Promise((r) => setTimeout(r, 2_000));
  expect(await dataReadyUpdates(run)).toBe(1);
  expect((await watchStatus()).recent.filter((e) => e.object === flag.object)).toHaveLength(1);

  // A part file is no flag: not sent (each signal would be an event in the watch's history).
  const part = await write(`warehouse/sales/${partition}/part-00000.parquet`, 'rows');
  const ignored = await ct(JSON.stringify(part.resource), '--json', 'flags', 'notify', '--env', 'staging');
  expect(JSON.parse(ignored.stdout)).toMatchObject({ sent: false, object: `gs://${BUCKET}/${part.object}` });

  // What an operator sees: the watch, its sources and the outcome.
  const shown = await ct('', 'flags', 'status', '--env', 'staging');
  expect(shown.code).toBe(0);
  expect(shown.stdout).toContain(WATCH);
  expect(shown.stdout).toContain(`watches sales ← gs://${BUCKET}/warehouse/sales/{partition}/_SUCCESS`);
  expect(shown.stdout).toMatch(
    new RegExp(`delivered .*${flag.object} #${flag.generation} sales ${partition} → ${run}`),
  );
});
