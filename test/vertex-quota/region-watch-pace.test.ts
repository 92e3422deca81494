// The coalesced watch's pace (activities/vertex/watch-pace.ts) against the emulator, which counts
// the List calls: the watch spends its share of the read budget and no more, split between the job
// kinds of one project and region; it lists far more often than the old fixed 15 s when a round
// takes one page; a 429 storm slows it down. Each test in a Vertex project of its own, its jobs
// held RUNNING, each watch ending at its deadline.
import type { protos } from '@google-cloud/aiplatform';
import { RegionWatches } from '../../activities/vertex/region-watch';
import { RegionPace } from '../../activities/vertex/watch-pace';
import { createVertexClientFactory, type RegionWatchSettings } from '../../infra/vertex/clients';
import { uniqueId } from '../helpers/temporal';
import { emulatorControl, kfpSpecStruct, parentOf, uniqueProject, value } from '../helpers/vertex';
import { testStack } from '../setup/test-stack';

jest.setTimeout(90_000);

const control = emulatorControl();
const vertex = createVertexClientFactory({
  VERTEX_API_ENDPOINT: `${testStack().CT_TEST_VERTEX_HOST}:${testStack().CT_TEST_VERTEX_PORT}`,
  // The client's own budget must not be what paces the watch.
  CT_VERTEX_READS_PER_MINUTE: 60_000,
});
afterAll(() => vertex.close());

let project: string;
beforeEach(async () => {
  project = uniqueProject();
  await control.addRule({ match: { project }, script: { holdIn: 'RUNNING' } });
});
afterEach(async () => {
  await control.clearFaults(project);
  await control.clearRules(project);
});

const settings = (patch: Partial<RegionWatchSettings> = {}): RegionWatchSettings => ({
  intervalMs: 15_000,
  readShare: 0.1,
  readsPerMinute: 540,
  floorMs: 100,
  pageSize: 100,
  labelKey: 'ct-pipeline',
  maxBackoffMs: 60_000,
  twinWindowMs: 0,
  ...patch,
});

const labels = { 'ct-pipeline': 'pace-test' };

async function customJob() {
  const [created] = await vertex('us-central1').jobs.createCustomJob({
    parent: parentOf(project),
    customJob: {
      displayName: uniqueId('paced'),
      labels,
      jobSpec: {
        workerPoolSpecs: [
          {
            machineSpec: { machineType: 'n1-standard-4' },
            replicaCount: 1,
            containerSpec: { imageUri: 'us-docker.pkg.dev/p/r/trainer:1' },
          },
        ],
      },
    },
  });
  return watched(created);
}

async function pipelineJob() {
  const [created] = await vertex('us-central1').pipelines.createPipelineJob({
    parent: parentOf(project),
    pipelineJob: {
      displayName: uniqueId('paced'),
      labels,
      pipelineSpec: kfpSpecStruct(),
      runtimeConfig: {
        gcsOutputDirectory: `gs://${testStack().CT_TEST_GCS_BUCKET}/pipeline-root`,
        parameterValues: { partition: value('2026-11-21') },
      },
    },
  });
  return watched(created);
}

function watched(job: protos.google.cloud.aiplatform.v1.ICustomJob | protos.google.cloud.aiplatform.v1.IPipelineJob) {
  const t = job.createTime!;
  return {
    name: job.name!,
    createTime: new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString(),
  };
}

const listTimes = async (method: string) =>
  (await control.calls({ method, project })).map((c) => Date.parse(c.time)).sort((a, b) => a - b);

/** The most calls in any `windowMs` (each call opens a window). */
const mostIn = (times: number[], windowMs: number) =>
  Math.max(0, ...times.map((t, i) => times.slice(i).filter((u) => u < t + windowMs).length));

test('two job kinds in one region together list within the share, split fairly, as the emulator counts', async () => {
  // 60 reads a minute for the region: 30 each. CustomJobs take 3 pages a round (every 6 s), PipelineJobs 1 (every 2 s).
  const s = settings({ readsPerMinute: 600, pageSize: 2 });
  const customs = [];
  for (let i = 0; i < 5; i++) customs.push(await customJob());
  const pipeline = await pipelineJob();
  const watches = new RegionWatches(vertex, s);
  const until = Date.now() + 25_000;
  await Promise.all([
    ...customs.map((j) => watches.watchOf('customJob', j.name).awaitEnd(j, until)),
    watches.watchOf('pipelineJob', pipeline.name).awaitEnd(pipeline, until),
  ]);

  const custom = await listTimes('ListCustomJobs');
  const pipelines = await listTimes('ListPipelineJobs');
  const all = [...custom, ...pipelines].sort((a, b) => a - b);
  // Any window of W holds at most share × W / 60 s plus one round's pages (the round at its edge).
  const bound = (reads: number, pages: number) => Math.floor((reads * 20_000) / 60_000) + pages;
  expect(mostIn(all, 20_000)).toBeLessThanOrEqual(bound(60, 3 + 1));
  // Fair: neither kind took the other's half (the 1-page kind lists ~3× as often as the 3-page one).
  expect(mostIn(custom, 20_000)).toBeLessThanOrEqual(bound(30, 3));
  expect(mostIn(pipelines, 20_000)).toBeLessThanOrEqual(bound(30, 1));
  // And the share is spent, not left idle.
  expect(all.length).toBeGreaterThanOrEqual(Math.floor(bound(60, 0) * 0.75));
});

test('one page a round: the watch lists every second or so, not every 15 s', async () => {
  const job = await customJob();
  // The defaults: 10 % of 540 reads a minute, a floor of 1 s.
  const watch = new RegionWatches(vertex, settings({ floorMs: 1_000 })).watchOf('customJob', job.name);
  await watch.awaitEnd(job, Date.now() + 10_000);

  const lists = await listTimes('ListCustomJobs');
  // 54 a minute is one every 60 s / 54 = 1.1 s: ~9 in 10 s, where the fixed 15 s made 1.
  expect(lists.length).toBeGreaterThanOrEqual(7);
  expect(lists.length).toBeLessThanOrEqual(10);
});

test('a 429 storm slows the adaptive watch down; it speeds up again once the storm is over', async () => {
  const job = await customJob();
  await control.addFault({ method: 'ListCustomJobs', project, code: 'RESOURCE_EXHAUSTED', times: 1_000 });
  const watch = new RegionWatches(vertex, settings()).watchOf('customJob', job.name);
  const storm = watch.awaitEnd(job, Date.now() + 10_000);
  await storm;
  const during = (await listTimes('ListCustomJobs')).length;
  // Paced alone it lists ~9 times in 10 s; backing off (1.1, 2.2, 4.4 s … on top) it tries 4 at most.
  expect(watch.stats.errors).toBe(during);
  expect(during).toBeLessThanOrEqual(4);

  await control.clearFaults(project);
  const after = Date.now();
  await watch.awaitEnd(job, Date.now() + 10_000);
  const calm = (await listTimes('ListCustomJobs')).filter((t) => t >= after).length;
  expect(calm).toBeGreaterThanOrEqual(5);
});

test('other callers using the read budget slow the watch, down to CT_VERTEX_WATCH_INTERVAL_MS at most', () => {
  let others = 0;
  const usage = { usedInLastMinute: () => others };
  const pace = new RegionPace('p', 'r', settings({ floorMs: 1_000 }), usage);
  pace.listing('customJob', 1);
  const alone = pace.intervalOf('customJob');
  expect(alone).toBeCloseTo(60_000 / 54, 0);
  others = 540 - 27; // half the share is left
  expect(pace.intervalOf('customJob')).toBeCloseTo(60_000 / 27, 0);
  others = 540; // none is left: the watch still lists, at the fixed interval
  expect(pace.intervalOf('customJob')).toBe(15_000);
  // Whole rounds a minute: 4 pages in 54 reads is 13 rounds, 60 s / 13 apart (not 60 s · 4 / 54,
  // which lets a 14th round, at the far edge of a window that opens on a round, past the share).
  pace.listing('customJob', 4);
  others = 0;
  expect(pace.intervalOf('customJob')).toBeCloseTo(60_000 / 13, 0);
  pace.listing('customJob', 1);
  // Its own reads are not counted as others': 486 others' and 40 of its own leave it its whole share.
  for (let i = 0; i < 40; i++) pace.read();
  others = 486 + 40;
  expect(pace.intervalOf('customJob')).toBeCloseTo(alone, 0);
});
