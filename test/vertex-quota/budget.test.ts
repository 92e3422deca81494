// The worker's Vertex call budget (infra/vertex/budget.ts) on fake timers: what it lets through
// at once and in any minute, how a 429 slows it and how it recovers, when it refuses, and which quota bucket
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

test('back-to-back calls leave at once while the minute has room, and no 60 s window holds more than the budget', async () => {
  const b = budget({ readsPerMinute: 60 });
  const times = takeMany(b, 400);
  await jest.advanceTimersByTimeAsync(0);
  // The minute's 60 go at once, not one a second.
  expect(times).toEqual(Array(60).fill(0));
  await jest.advanceTimersByTimeAsync(299_000);
  expect(busiestWindow(times, 60_000)).toBeLessThanOrEqual(60);
  // Each then goes the moment the call 60 before it has left the window (and a second's margin for
  // Vertex's clock, SKEW_MS): 60 every 61 s, not fewer.
  expect(times.length).toBe(300);
  expect(times[60]).toBe(61_000);
});

test('a call in a window with room goes at once even after a backlog, and a caller can read what the minute used', async () => {
  const b = budget({ createsPerMinute: 6 });
  const early = takeMany(b, 2, ['p', 'r', 'create']);
  await jest.advanceTimersByTimeAsync(30_000);
  expect(b.usedInLastMinute('p', 'r', 'create')).toBe(2);
  const later = takeMany(b, 4, ['p', 'r', 'create']);
  await jest.advanceTimersByTimeAsync(0);
  expect([early.length, later.length]).toEqual([2, 4]);
  expect(b.usedInLastMinute('p', 'r', 'create')).toBe(6);
  // The window is full: the next waits until the first two have left it, at 61 s.
  const next = takeMany(b, 1, ['p', 'r', 'create']);
  await jest.advanceTimersByTimeAsync(30_000);
  expect(next.length).toBe(0);
  await jest.advanceTimersByTimeAsync(1_000);
  expect(next).toEqual([31_000]);
  expect(b.usedInLastMinute('p', 'r', 'create')).toBe(5);
  expect(b.usedInLastMinute('p', 'r', 'read')).toBe(0);
});

test('each project, region and bucket has a budget of its own; a project id and its number share one', async () => {
  const b = budget({ readsPerMinute: 60, createsPerMinute: 6 });
  const reads = takeMany(b, 100, ['p', 'r', 'read']);
  const creates = takeMany(b, 100, ['p', 'r', 'create']);
  const otherRegion = takeMany(b, 100, ['p', 'r2', 'read']);
  const otherProject = takeMany(b, 100, ['q', 'r', 'read']);
  await jest.advanceTimersByTimeAsync(59_000);
  expect([reads.length, creates.length, otherRegion.length, otherProject.length]).toEqual([60, 6, 60, 60]);

  // Vertex named project p's jobs with its number 123: calls naming either now share p's budget.
  const shared = budget({ readsPerMinute: 60 });
  const byId = takeMany(shared, 100, ['p', 'r', 'read']);
  shared.sameProject('p', '123');
  const byNumber = takeMany(shared, 100, ['123', 'r', 'read']);
  await jest.advanceTimersByTimeAsync(59_000);
  expect(byId.length + byNumber.length).toBe(60);
});

test('a 429 halves the quota of that project and region once a second, down to 1/4, and a quiet minute doubles it back', async () => {
  const b = budget({ readsPerMinute: 600 });
  const rate = () => b.ratePerMinute('p', 'r', 'read');
  expect(rate()).toBe(600);
  // Calls in flight together all see the 429: one cut.
  for (let i = 0; i < 5; i++) b.resourceExhausted('p', 'r', 'read');
  expect(rate()).toBe(300);
  expect(b.ratePerMinute('p', 'r', 'create')).toBe(6);
  expect(b.ratePerMinute('p', 'other-region', 'read')).toBe(600);
  for (let i = 0; i < 10; i++) {
    await jest.advanceTimersByTimeAsync(1_000);
    b.resourceExhausted('p', 'r', 'read');
  }
  expect(rate()).toBe(150); // 600 / 4
  // The lower quota is what calls get: 150 in the next minute, not 600.
  const times = takeMany(b, 300);
  await jest.advanceTimersByTimeAsync(59_000);
  expect(times.length).toBe(150);

  // A minute after the last cut the next call doubles the quota, and so on each minute.
  await jest.advanceTimersByTimeAsync(2_000);
  void b.take('p', 'r', 'read');
  expect(rate()).toBe(300);
});

test('a 429 storm slows creates down: a minute of cuts leaves a quarter of the create quota', async () => {
  const b = budget({ createsPerMinute: 40 });
  for (let i = 0; i < 3; i++) {
    b.resourceExhausted('p', 'r', 'create');
    await jest.advanceTimersByTimeAsync(1_000);
  }
  const creates = takeMany(b, 100, ['p', 'r', 'create']);
  await jest.advanceTimersByTimeAsync(50_000);
  expect(creates.length).toBe(10);
});

test('a call that would wait past maxWaitMs is refused at once as RESOURCE_EXHAUSTED, taking nothing', async () => {
  const b = budget({ readsPerMinute: 60, maxWaitMs: 5_500 });
  const first = takeMany(b, 60);
  await jest.advanceTimersByTimeAsync(0);
  expect(first.length).toBe(60);
  // The 61st would wait until the first leaves the window, 60 s.
  const refused = await b.take('p', 'r', 'read').then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(refused).toBeInstanceOf(VertexBudgetSpent);
  expect(refused).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
  expect((refused as Error).message).toMatch(
    /read budget for projects\/p\/locations\/r .*CT_VERTEX_READS_PER_MINUTE: 60/,
  );
  expect(b.usedInLastMinute('p', 'r', 'read')).toBe(60);
  // Once the window has room again the next call goes at once.
  await jest.advanceTimersByTimeAsync(61_000);
  const after = takeMany(b, 1);
  await jest.advanceTimersByTimeAsync(0);
  expect(after).toEqual([0]);
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
