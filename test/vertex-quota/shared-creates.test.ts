// One create budget per project and region, shared by every worker: each Vertex job's create runs on
// its project and region's create queue, whose task-queue rate limit the Temporal server enforces
// across the workers polling it (workers/worker.ts). Each worker's own budget is the whole figure
// (no slices), so what holds two workers together is the server. Real dev server, two real workers
// on one task queue, the real aiplatform clients; the emulator's call log is what Vertex would count.
import { startTrainingRun } from '../../client/training';
import { busiestWindow } from '../../emulators/vertex-ai/control-client';
import { createVertexClientFactory } from '../../infra/vertex/clients';
import { uniquePartition, type IsolatedProject } from '../helpers/isolation';
import { customJobTraining, dailyData, projectWith } from '../helpers/pipelines';
import { withWorker, type WorkerContext } from '../helpers/temporal';
import { emulatorControl, LOCATION } from '../helpers/vertex';
import { testStack } from '../setup/test-stack';

jest.setTimeout(300_000);

const control = emulatorControl();
/** CT_VERTEX_CREATES_PER_MINUTE: a create every 3 s on average, so a minute's worth takes a minute. */
const Q = 20;
/**
 * The most any 60 s can hold: the server splits the queue's rate over its partitions (one each on
 * our servers: stack/dynamic-config.ts), each with a 1 s burst, so a window can catch one more per
 * partition (docs/vertex-quota.md).
 */
const PARTITIONS = 1;
/**
 * The server bounds its dispatches; the emulator counts arrivals, a worker's start latency later,
 * which a loaded machine bunches by a few (CI: 22 at a bound of 21). Without the limit all 26 arrive
 * in one minute.
 */
const ARRIVAL_JITTER = 3;
const MOST_IN_60S = PARTITIONS * (Math.floor((61 * Q) / (60 * PARTITIONS)) + 1) + ARRIVAL_JITTER;
let iso: IsolatedProject;
beforeEach(async () => {
  iso = projectWith({ churn: { data: dailyData(['events']), training: customJobTraining } });
  await control.addRule({ match: { project: iso.project }, script: { queuedMs: 0, pendingMs: 0, runningMs: 300 } });
});
afterEach(async () => {
  await control.clearRules(iso.project);
  await iso.cleanup();
});

/** A worker's own Vertex clients and budget, at the whole figure as every worker now gets it. */
const ownVertex = () =>
  createVertexClientFactory({
    VERTEX_API_ENDPOINT: `${testStack().CT_TEST_VERTEX_HOST}:${testStack().CT_TEST_VERTEX_PORT}`,
    CT_VERTEX_CREATES_PER_MINUTE: Q,
  });

/** `n` training runs of partitions of their own, started at once; resolves when all succeeded. */
async function trainMany(ctx: WorkerContext, n: number) {
  const partitions = new Set<string>();
  while (partitions.size < n) partitions.add(uniquePartition());
  const handles = await Promise.all(
    [...partitions].map((partition) =>
      startTrainingRun(
        ctx.client,
        iso.config,
        { pipeline: 'churn', environment: 'staging', partition, assumeDataReady: true },
        { taskQueue: ctx.taskQueue },
      ),
    ),
  );
  const results = await Promise.all(handles.map((h) => h.result()));
  expect(results.map((r) => r.status)).toEqual(results.map(() => 'succeeded'));
}

/** When the emulator received this project's creates. */
async function createTimes(): Promise<number[]> {
  const calls = await control.calls({ project: iso.project, method: 'CreateCustomJob' });
  return calls.filter((c) => c.codeName === 'OK').map((c) => Date.parse(c.time));
}

test("two workers together never create more than the budget (and its partitions' bursts) in any 60 s, as the emulator counts, and both create", async () => {
  const [a, b] = [ownVertex(), ownVertex()];
  // Which worker made creates: each one's budget counts its own.
  const seen = { a: 0, b: 0 };
  const sampler = setInterval(() => {
    seen.a = Math.max(seen.a, a.budget.usedInLastMinute(iso.project, LOCATION, 'create'));
    seen.b = Math.max(seen.b, b.budget.usedInLastMinute(iso.project, LOCATION, 'create'));
  }, 200);
  try {
    await withWorker(
      (ctx) =>
        withWorker(() => trainMany(ctx, Q + 6), {
          project: iso,
          taskQueue: ctx.taskQueue,
          vertex: b,
          createsPerMinute: Q,
        }),
      { project: iso, vertex: a, createsPerMinute: Q },
    );
    const times = await createTimes();
    expect(times).toHaveLength(Q + 6);
    // Each worker alone would let Q go at once: without the server's limit the 26 leave together.
    expect(busiestWindow(times, 60_000)).toBeLessThanOrEqual(MOST_IN_60S);
    expect(seen.a).toBeGreaterThan(0);
    expect(seen.b).toBeGreaterThan(0);
  } finally {
    clearInterval(sampler);
    await Promise.all([a.close(), b.close()]);
  }
});

test('one worker alone creates at the whole budget: its busiest minute holds ≥ 9/10 of it, more than a half slice can', async () => {
  const vertex = ownVertex();
  try {
    await withWorker((ctx) => trainMany(ctx, Q + 6), { project: iso, vertex, createsPerMinute: Q });
    const times = await createTimes();
    expect(times).toHaveLength(Q + 6);
    // One partition paces the whole burst: ≥ 9/10 of the budget (a loaded machine may start a few
    // runs late), where a worker on a half slice (two workers' shares) holds at most ⌊61 × 10 / 60⌋ + 1 = 11.
    expect(busiestWindow(times, 60_000)).toBeGreaterThanOrEqual(Math.ceil(Q * 0.9));
    expect(busiestWindow(times, 60_000)).toBeLessThanOrEqual(MOST_IN_60S);
  } finally {
    await vertex.close();
  }
});
