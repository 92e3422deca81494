// The coalesced watch (activities/vertex/region-watch.ts) against the emulator through the real
// @google-cloud/aiplatform clients: every end state across a list page boundary, a job that ends
// between two listings, a job that is gone (NOT_FOUND), and a 429 storm. Each test in a Vertex
// project of its own; its jobs carry their script in labels.
import type { protos } from '@google-cloud/aiplatform';
import { RegionWatches } from '../../activities/vertex/region-watch';
import { createVertexClientFactory, type RegionWatchSettings } from '../../infra/vertex/clients';
import { uniqueId } from '../helpers/temporal';
import { emulatorControl, parentOf, uniqueProject } from '../helpers/vertex';
import { testStack } from '../setup/test-stack';

jest.setTimeout(60_000);

const control = emulatorControl();
const vertex = createVertexClientFactory({
  VERTEX_API_ENDPOINT: `${testStack().CT_TEST_VERTEX_HOST}:${testStack().CT_TEST_VERTEX_PORT}`,
});
afterAll(() => vertex.close());

let project: string;
beforeEach(() => (project = uniqueProject()));
afterEach(() => control.clearFaults(project));

// A fixed interval (no read share): these tests are about what a listing sees; region-watch-pace.test.ts paces it.
const settings = (patch: Partial<RegionWatchSettings> = {}): RegionWatchSettings => ({
  intervalMs: 300,
  readShare: 0,
  readsPerMinute: 540,
  floorMs: 100,
  pageSize: 100,
  labelKey: 'ct-pipeline',
  maxBackoffMs: 1_000,
  twinWindowMs: 0,
  ...patch,
});

async function createJob(labels: Record<string, string>) {
  const job: protos.google.cloud.aiplatform.v1.ICustomJob = {
    displayName: uniqueId('watched'),
    labels: { 'ct-pipeline': 'watch-test', ...labels },
    jobSpec: {
      workerPoolSpecs: [
        {
          machineSpec: { machineType: 'n1-standard-4' },
          replicaCount: 1,
          containerSpec: { imageUri: 'us-docker.pkg.dev/p/r/trainer:1' },
        },
      ],
    },
  };
  const [created] = await vertex('us-central1').jobs.createCustomJob({ parent: parentOf(project), customJob: job });
  const seconds = Number(created.createTime!.seconds);
  return {
    name: created.name!,
    createTime: new Date(seconds * 1000 + Math.floor((created.createTime!.nanos ?? 0) / 1e6)).toISOString(),
  };
}

const callsOf = async (method: string) => (await control.calls({ method, project })).length;

test('every end state is seen across a list page boundary, from listings alone (no Get) of only the fields the watch reads', async () => {
  const outcomes = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'PAUSED', 'EXPIRED', 'PARTIALLY_SUCCEEDED'];
  // Created oldest first; listings are newest first, so with 5 a page the oldest is on page 2.
  const jobs = [];
  for (const outcome of outcomes) {
    jobs.push(await createJob({ 'vertex-emulator-outcome': outcome.toLowerCase(), 'vertex-emulator-run-ms': '1500' }));
  }
  const watch = new RegionWatches(vertex, settings({ pageSize: 5 })).watchOf('customJob', jobs[0]!.name);
  const seen = await Promise.all(jobs.map((j) => watch.awaitEnd(j, Date.now() + 30_000)));

  expect(seen.map((j) => String(j?.state).replace('JOB_STATE_', ''))).toEqual(outcomes);
  expect(watch.stats.gets).toBe(0);
  expect(await callsOf('GetCustomJob')).toBe(0);
  // Rounds read the second page (where the oldest job is) until that job has ended; then the
  // listing starts at the next oldest and fits one page, so how many rounds read two is timing.
  const lists = await control.calls({ method: 'ListCustomJobs', project });
  expect(lists.filter((c) => (c.request as { pageToken?: string }).pageToken).length).toBeGreaterThanOrEqual(1);
  expect(lists).toHaveLength(watch.stats.lists);
  // read_mask: a job's spec (most of its bytes) is not listed (the client decodes it as null).
  const listed = seen as (protos.google.cloud.aiplatform.v1.ICustomJob | undefined)[];
  expect(listed.filter((j) => j?.displayName || j?.jobSpec)).toEqual([]);
  expect((lists[0]!.request as { readMask?: { paths?: string[] } }).readMask?.paths).toContain('labels');
});

test('a job that ends between two listings is seen in its end state, and still with no Get', async () => {
  const job = await createJob({});
  await control.scriptJob(job.name, { holdIn: 'RUNNING' });
  const watch = new RegionWatches(vertex, settings({ intervalMs: 2_000 })).watchOf('customJob', job.name);
  const ended = watch.awaitEnd(job, Date.now() + 30_000);
  // Once a listing has shown it running, it finishes well before the next listing.
  await waitFor(async () => watch.stats.lists >= 1 && (await control.job(job.name)).state === 'JOB_STATE_RUNNING');
  const listsBefore = watch.stats.lists;
  await control.advance(job.name);
  expect((await control.job(job.name)).state).toBe('JOB_STATE_SUCCEEDED');

  expect(String((await ended)?.state)).toBe('JOB_STATE_SUCCEEDED');
  expect(watch.stats.lists).toBe(listsBefore + 1);
  expect(watch.stats.gets).toBe(0);
});

test('a watched job that is gone fails its watch with NOT_FOUND; the others are unaffected', async () => {
  const job = await createJob({ 'vertex-emulator-run-ms': '1500' });
  const gone = { name: job.name.replace(/\d+$/, '1234567890123456789'), createTime: job.createTime };
  const watch = new RegionWatches(vertex, settings()).watchOf('customJob', job.name);
  const [missing, other] = await Promise.allSettled([
    watch.awaitEnd(gone, Date.now() + 30_000),
    watch.awaitEnd(job, Date.now() + 30_000),
  ]);

  expect(missing.status).toBe('rejected');
  const failure = (missing as PromiseRejectedResult).reason as { type: string; message: string; nonRetryable: boolean };
  expect(failure).toMatchObject({ type: 'VertexRejected', nonRetryable: true });
  expect(failure.message).toMatch(/NOT_FOUND/);
  expect(other).toMatchObject({ status: 'fulfilled', value: { state: 'JOB_STATE_SUCCEEDED' } });
  expect(watch.stats.gets).toBe(1);
});

test('a 429 storm slows the watch down and fails no watch', async () => {
  const job = await createJob({ 'vertex-emulator-run-ms': '500' });
  await control.addFault({ method: 'ListCustomJobs', project, code: 'RESOURCE_EXHAUSTED', times: 6 });
  const watch = new RegionWatches(vertex, settings({ intervalMs: 100, maxBackoffMs: 800 })).watchOf(
    'customJob',
    job.name,
  );
  const started = Date.now();
  const seen = await watch.awaitEnd(job, Date.now() + 30_000);

  expect(String(seen?.state)).toBe('JOB_STATE_SUCCEEDED');
  expect(watch.stats.errors).toBe(6);
  // Backing off 100, 200, 400, 800, 800, 800 ms between the failed listings, not 6 × 100 ms.
  expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
