// The worker's Vertex call budget (infra/vertex/budget.ts) on fake timers: what it lets through
// in any minute, how a 429 slows it and how it recovers, when it refuses, and which quota bucket
// each client method takes from. Its use by the real clients: test/vertex-quota/budget-runs.test.ts.
import { status } from '@grpc/grpc-js';
import { VertexBudget, VertexBudgetSpent, type BudgetBucket } from '../../infra/vertex/budget';
import { bucketOf } from '../../infra/vertex/budget-calls';

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

const budget = (patch: Partial<VertexBudget['settings']> = {}) =>
  new VertexBudget({ readsPerMinute: 60, createsPerMinute: 6, maxWaitMs: 3_600_000, ...patch });

/** Starts `n` takes at once and records when each is let through (fake ms since start). */
function takeMany(b: VertexBudget, n: number, where: [string, string, BudgetBucket] = ['p', 'r', 'read']) {
  const t0 = performance.now();
  const times: number[] = [];
  for (let i = 0; i < n; i++) void b.take(...where).then(() => times.push(performance.now() - t0));
  return times;
}

/** The most calls any window of `windowMs` holds. */
function busiestWindow(times: number[], windowMs: number): number {
  let most = 0;
  for (const [i, t] of times.entries()) most = Math.max(most, times.slice(i).filter((u) => u < t + windowMs).length);
  return most;
}

test('no 60 s window holds more calls than the budget, and a backlog is served at the budget’s rate', async () => {
  const b = budget({ readsPerMinute: 60 });
  const times = takeMany(b, 400);
  await jest.advanceTimersByTimeAsync(300_000);

  expect(busiestWindow(times, 60_000)).toBeLessThanOrEqual(60);
  // Never a burst: the bucket holds one call's worth (60/min ÷ 60), so 10 s hold ≤ 1 + 59/6.
  expect(busiestWindow(times, 10_000)).toBeLessThanOrEqual(11);
  // The one call the bucket holds, then 59 a minute: 296 in five minutes, not fewer.
  expect(times.length).toBeGreaterThanOrEqual(295);
});

test('each project, region and bucket has a budget of its own; a project id and its number share one', async () => {
  const b = budget({ readsPerMinute: 60, createsPerMinute: 6 });
  const reads = takeMany(b, 100, ['p', 'r', 'read']);
  const creates = takeMany(b, 100, ['p', 'r', 'create']);
  const otherRegion = takeMany(b, 100, ['p', 'r2', 'read']);
  const otherProject = takeMany(b, 100, ['q', 'r', 'read']);
  await jest.advanceTimersByTimeAsync(61_000);
  expect([reads.length, creates.length, otherRegion.length, otherProject.length]).toEqual([60, 6, 60, 60]);

  // Vertex named project p's jobs with its number 123: calls naming either now share p's budget.
  const shared = budget({ readsPerMinute: 60 });
  const byId = takeMany(shared, 100, ['p', 'r', 'read']);
  shared.sameProject('p', '123');
  const byNumber = takeMany(shared, 100, ['123', 'r', 'read']);
  await jest.advanceTimersByTimeAsync(60_000);
  expect(byId.length + byNumber.length).toBeLessThanOrEqual(60);
});

test('a 429 halves the rate of that project and region once a second, down to 1/4, and a quiet minute doubles it back', async () => {
  const b = budget({ readsPerMinute: 600 });
  const rate = () => b.ratePerMinute('p', 'r', 'read');
  expect(rate()).toBe(590); // 600 less the 10-call bucket
  // Calls in flight together all see the 429: one cut.
  for (let i = 0; i < 5; i++) b.resourceExhausted('p', 'r', 'read');
  expect(rate()).toBe(295);
  expect(b.ratePerMinute('p', 'r', 'create')).toBe(5);
  expect(b.ratePerMinute('p', 'other-region', 'read')).toBe(590);
  for (let i = 0; i < 10; i++) {
    await jest.advanceTimersByTimeAsync(1_000);
    b.resourceExhausted('p', 'r', 'read');
  }
  expect(rate()).toBe(148); // 590 / 4
  // The slower rate is what calls get: ~148 in the next minute, not 590.
  const times = takeMany(b, 300);
  await jest.advanceTimersByTimeAsync(59_000);
  expect(times.length).toBeLessThanOrEqual(148);

  // A minute after the last cut the next call doubles the rate, and so on each minute.
  await jest.advanceTimersByTimeAsync(2_000);
  void b.take('p', 'r', 'read');
  expect(rate()).toBe(295);
});

test('a call that would wait past maxWaitMs is refused at once as RESOURCE_EXHAUSTED, taking nothing', async () => {
  const b = budget({ readsPerMinute: 60, maxWaitMs: 5_500 });
  const waiting = takeMany(b, 5); // ~1 s apart: the fifth waits ~5.1 s, a sixth would ~6.1 s
  const refused = await b.take('p', 'r', 'read').then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(refused).toBeInstanceOf(VertexBudgetSpent);
  expect(refused).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
  expect((refused as Error).message).toMatch(
    /read budget for projects\/p\/locations\/r .*CT_VERTEX_READS_PER_MINUTE: 60/,
  );
  await jest.advanceTimersByTimeAsync(6_000);
  expect(waiting.length).toBe(5);
  // The queue has drained: the next call is let through within a token's time.
  const after = takeMany(b, 1);
  await jest.advanceTimersByTimeAsync(1_100);
  expect(after.length).toBe(1);
});

test('every submission (create*, uploadModel, delete*) takes from the create bucket; every other call is a read', () => {
  const methods = [
    'createPipelineJob',
    'createCustomJob',
    'createBatchPredictionJob',
    'uploadModel',
    'deleteModelVersion',
    'getPipelineJob',
    'getCustomJob',
    'listBatchPredictionJobs',
    'cancelPipelineJob',
    'cancelBatchPredictionJob',
    'getModel',
    'listModelVersions',
    'mergeVersionAliases',
  ];
  expect(Object.fromEntries(methods.map((m) => [m, bucketOf(m)]))).toEqual({
    createPipelineJob: 'create',
    createCustomJob: 'create',
    createBatchPredictionJob: 'create',
    uploadModel: 'create',
    deleteModelVersion: 'create',
    getPipelineJob: 'read',
    getCustomJob: 'read',
    listBatchPredictionJobs: 'read',
    cancelPipelineJob: 'read',
    cancelBatchPredictionJob: 'read',
    getModel: 'read',
    listModelVersions: 'read',
    mergeVersionAliases: 'read',
  });
});
