// Thousands of Vertex jobs in flight in one project and region, or spread over several regions
// of one or two projects (--regions, --projects: each region of each project an environment of the
// bench config with its own runs and quota, reported under `regions`; the top-level figures sum
// over them, `watchPace`'s interval and share are per project and region), measured for the
// coalesced watch (paced by its read share) and, as `baseline`, the per-job watch (`all` adds
// `fixedBaseline`: the coalesced watch at a fixed interval), each on a private stack: dev server,
// emulator with Vertex's read quota on (600 CRUD requests a minute per project and region),
// compiled worker processes. Prints JSON.
//   npm run bench:scale [-- --jobs 2000 --workers 2 --duration 6m --design both|all|coalesced|fixed|per-job]
//     [--watch-share 0.1 --watch-floor 1s --watch-interval 15s] [--regions 1-5 --projects 1-2]
// The jobs are batch prediction segments, split evenly over the projects and regions, each's
// ⌈jobs/1000⌉ prediction runs (1,000 children at most per run). Creates: the emulator's create
// quota is raised from Vertex's 60 to 600 a minute (the config's maximum createsPerMinute), or
// 2,000 jobs would take 33 minutes to start; at 600 the ramp takes ~3.4 minutes, so jobs run 6
// minutes to be all in flight at once for a while.
import { parseArgs } from 'node:util';
import { startPredictionRun } from '../client/prediction';
import { parseConfig } from '../config/load-config';
import { Duration } from '../config/primitives';
import { predictionSegmentId } from '../contracts';
import { peakConcurrency } from '../emulators/vertex-ai/control-client';
import {
  BENCH_PROJECT,
  registerBenchChampion,
  benchCustomJob,
  benchEnvironmentIn,
  benchSegments,
  percentile,
  serverActions,
  startBenchStack,
} from './stack';
import { benchCells, perRegionFigures, scopeOfRequest, type LoggedCall } from './scale-regions';
import { SLOW_MS, watchStory, type WatchStory } from './watch-story';
import { workerAllocatorEnv } from '../stack/allocator';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '2000' },
    workers: { type: 'string', default: '2' },
    duration: { type: 'string', default: '6m' },
    design: { type: 'string', default: 'both' },
    'watch-interval': { type: 'string', default: '15s' },
    'watch-share': { type: 'string', default: '0.1' },
    'watch-floor': { type: 'string', default: '1s' },
    'page-size': { type: 'string', default: '1000' },
    regions: { type: 'string', default: '1' },
    projects: { type: 'string', default: '1' },
  },
});
const N = Number(values.jobs);
const WORKERS = Number(values.workers);
const D = Duration.parse(values.duration);
const WATCH_INTERVAL = Duration.parse(values['watch-interval']);
const WATCH_SHARE = Number(values['watch-share']);
const WATCH_FLOOR = Duration.parse(values['watch-floor']);
const PAGE_SIZE = Number(values['page-size']);
const READS_PER_MINUTE = 600;
const CREATES_PER_MINUTE = 600;
/**
 * The create queues' rate: the server's limiter (one partition per create queue, a 1 s burst)
 * dispatches at most ⌊61 × 585 / 60⌋ + 1 = 595 in any 60 s at 585 (docs/vertex-quota.md), and the
 * workers' start latency bunches a few more at the emulator (598 seen); at 590 the bound is the quota.
 */
const CREATES_BUDGET = CREATES_PER_MINUTE - 15;
const CELLS = benchCells(values.regions, values.projects);
const PER_CELL = Math.ceil(N / CELLS.length);
const RUNS_PER_CELL = Math.ceil(PER_CELL / 1000);
const PER_RUN = Math.ceil(PER_CELL / RUNS_PER_CELL);
const RUNS = RUNS_PER_CELL * CELLS.length;
const PROJECT = BENCH_PROJECT;
const READ_METHODS = /^(Get|List)/;

/** `fixed`: the coalesced watch without a read share, a listing every --watch-interval (the design before the share). */
type Design = 'coalesced' | 'fixed' | 'per-job';

const configText = (perRun: number) =>
  JSON.stringify({
    version: 1,
    pipelines: {
      scale: {
        environments: Object.fromEntries(CELLS.map((c) => [c.environment, benchEnvironmentIn(c.project, c.region)])),
        data: { partition: 'daily', datasets: ['x'], timeout: '1d' },
        training: benchCustomJob,
        // The production settings: the per-job watch reads once a minute; the coalesced watch lists
        // as often as its read share allows (the fixed one every --watch-interval) whatever the plan's interval.
        polling: { interval: '60s', chunk: '15m' },
        model: { registry: { modelId: 'scale', displayName: 'scale', servingImage: 'img' } },
        prediction: {
          segments: benchSegments(perRun),
          input: { uri: `bq://${PROJECT}.features.{sns}_{country}`, format: 'bigquery' },
          output: { uri: `bq://${PROJECT}.predictions`, format: 'bigquery' },
          maxConcurrentJobs: perRun,
          createsPerMinute: CREATES_PER_MINUTE,
          childrenPerRun: 1000,
          summary: 'gs://ct-bench/predictions/{partition}/_SUMMARY.json',
        },
      },
    },
  });

async function measure(design: Design) {
  const text = configText(PER_RUN);
  const config = parseConfig(text, 'bench config');
  const stack = await startBenchStack();
  const { client, control, temporal } = stack;
  try {
    await control.patchSettings({
      quota: { enabled: true, crudPerMinute: READS_PER_MINUTE, createsPerMinute: CREATES_PER_MINUTE },
    });
    await control.addRule({
      match: { kind: 'batchPredictionJob' },
      script: { queuedMs: 0, pendingMs: 0, runningMs: D },
    });
    for (const { project, region } of CELLS) await registerBenchChampion(stack, 'scale', { project, region });
    const env = {
      CT_VERTEX_WATCH: design === 'per-job' ? 'per-job' : 'coalesced',
      CT_VERTEX_WATCH_INTERVAL_MS: String(WATCH_INTERVAL),
      CT_VERTEX_WATCH_READ_SHARE: design === 'fixed' ? '0' : String(WATCH_SHARE),
      CT_VERTEX_WATCH_FLOOR_MS: String(WATCH_FLOOR),
      CT_VERTEX_LIST_PAGE_SIZE: String(PAGE_SIZE),
      // Each worker's read budget is its share of the emulator's quota, as in production
      // (infra/vertex/budget.ts); creates are shared by the workers through the create queues.
      CT_VERTEX_READS_PER_MINUTE: String(Math.floor(READS_PER_MINUTE / WORKERS)),
      CT_VERTEX_CREATES_PER_MINUTE: String(CREATES_BUDGET),
    };
    const workers = [];
    for (let i = 0; i < WORKERS; i++) workers.push(await stack.startWorkerProcess(text, env));
    const actionsBefore = await serverActions(temporal.metricsUrl);

    // The call log keeps the last 10,000 calls: read it as it grows, by minute and method.
    const calls: LoggedCall[] = [];
    let seq = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const batch = await control.calls({ after: seq });
        for (const c of batch) {
          const firstPage = !(c.request as { pageToken?: string } | undefined)?.pageToken;
          const scope = scopeOfRequest(c.request);
          calls.push({ t: Date.parse(c.time), method: c.method, code: c.codeName, firstPage, scope });
        }
        seq = batch.at(-1)?.seq ?? seq;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    })();

    const partitions = Array.from({ length: RUNS_PER_CELL }, (_, i) => `2030-07-${String(i + 1).padStart(2, '0')}`);
    const started = Date.now();
    const results = await Promise.all(
      CELLS.flatMap(({ environment }) =>
        partitions.map(async (partition) => {
          const handle = await startPredictionRun(
            client,
            config,
            { pipeline: 'scale', environment, partition },
            { taskQueue: 'bench' },
          );
          return { environment, partition, summary: await handle.result() };
        }),
      ),
    );
    const wallMs = Date.now() - started;
    await new Promise((r) => setTimeout(r, 2_000)); // the metrics counter and the call log catch up
    polling = false;
    await poller;
    const actionsTotal = (await serverActions(temporal.metricsUrl)) - actionsBefore;
    const peakWorkerRssMb = workers.map((w) => w.peakRssMb() ?? null);
    // What the memory costs in CPU (a smaller heap collects more often): each worker's user + system seconds.
    const workerCpuSeconds = workers.map((w) => Math.round(w.cpuSeconds()));
    await Promise.all(workers.map((w) => w.service.stop()));

    const jobs = await control.jobs({ kind: 'batchPredictionJob' });
    const byName = new Map(jobs.map((j) => [j.name, j]));
    // "In flight": from the last create to the first end (all jobs alive), else the peak's neighbourhood.
    const lastCreate = Math.max(...jobs.map((j) => Date.parse(j.createTime)));
    const firstEnd = Math.min(...jobs.map((j) => Date.parse(j.endTime ?? new Date().toISOString())));
    const [from, to] = firstEnd > lastCreate + 30_000 ? [lastCreate, firstEnd] : [started, started + wallMs];
    const minutes = (to - from) / 60_000;
    const inWindow = calls.filter((c) => c.t >= from && c.t < to && READ_METHODS.test(c.method));
    const readsByMethod: Record<string, number> = {};
    for (const c of inWindow) readsByMethod[c.method] = (readsByMethod[c.method] ?? 0) + 1;
    const perMinute = Object.fromEntries(Object.entries(readsByMethod).map(([m, n]) => [m, Math.round(n / minutes)]));
    // The watch's pace: its List calls (pages) and rounds (first pages) a minute, and so each worker's
    // interval per (project, region) and the share of the quota, summed over them, it used.
    const lists = inWindow.filter((c) => c.method.startsWith('List'));
    const rounds = lists.filter((c) => c.firstPage).length / minutes;
    const watchPace =
      design === 'per-job'
        ? undefined
        : {
            listsPerMinute: Math.round(lists.length / minutes),
            roundsPerMinute: Math.round(rounds * 10) / 10,
            pagesPerRound: rounds > 0 ? Math.round((lists.length / minutes / rounds) * 10) / 10 : null,
            meanIntervalMsPerWorker: rounds > 0 ? Math.round((WORKERS * CELLS.length * 60_000) / rounds) : null,
            readShareOfQuota: Math.round((lists.length / minutes / (READS_PER_MINUTE * CELLS.length)) * 1000) / 1000,
          };

    // Detection lag: the emulator's end time → the watch activity's completion in the segment's history.
    const segments = results.flatMap((r) =>
      r.summary.segments.map((s) => ({ ...s, partition: r.partition, environment: r.environment })),
    );
    const lags: number[] = [];
    const lagsByEnvironment: { environment: string; ms: number }[] = [];
    const slow: ({ lagMs: number } & WatchStory)[] = [];
    for (let i = 0; i < segments.length; i += 50) {
      const batch = await Promise.all(
        segments.slice(i, i + 50).map(async (s) => {
          const id = predictionSegmentId({
            environment: s.environment,
            pipeline: 'scale',
            partition: s.partition,
            segment: s.segment,
          });
          const events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
          const scheduled = new Set(
            events
              .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'awaitBatchPrediction')
              .map((e) => String(e.eventId)),
          );
          const done = events.find((e) =>
            scheduled.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId)),
          );
          const end = s.job ? byName.get(s.job)?.endTime : undefined;
          if (!done?.eventTime || !end) return undefined;
          const seen = Number(done.eventTime.seconds) * 1000 + Math.floor((done.eventTime.nanos ?? 0) / 1e6);
          const ms = seen - Date.parse(end);
          // The stack is gone once the bench prints: an outlier's story is kept while its history is at hand.
          const story = ms > SLOW_MS ? watchStory(events, done, { segment: id, jobEnd: end }) : undefined;
          return { environment: s.environment, ms, story };
        }),
      );
      for (const l of batch) {
        if (l === undefined) continue;
        lags.push(l.ms);
        lagsByEnvironment.push(l);
        if (l.story) slow.push({ lagMs: l.ms, ...l.story });
      }
    }
    lags.sort((a, b) => a - b);
    const jobHours = jobs.reduce(
      (h, j) => h + (Date.parse(j.endTime ?? new Date().toISOString()) - Date.parse(j.createTime)) / 3_600_000,
      0,
    );
    const failed = segments.filter((s) => s.outcome !== 'succeeded');
    return {
      design,
      jobsInFlight: peakConcurrency(jobs),
      jobsTotal: jobs.length,
      vertexReadsPerMinute: { total: Object.values(perMinute).reduce((a, b) => a + b, 0), byMethod: perMinute },
      readWindowMinutes: Math.round(minutes * 10) / 10,
      ...(watchPace ? { watchPace } : {}),
      quotaErrors: {
        emulator: calls.filter((c) => c.code === 'RESOURCE_EXHAUSTED').length,
        runs: failed.filter((s) => /RESOURCE_EXHAUSTED|quota/i.test(s.error ?? '')).length,
      },
      segmentsFailed: failed.length,
      detectionLagMs: {
        p50: percentile(lags, 0.5),
        p99: percentile(lags, 0.99),
        max: lags.at(-1) ?? null,
        measured: lags.length,
      },
      slowestDetections: slow.sort((a, b) => b.lagMs - a.lagMs).slice(0, 5),
      peakWorkerRssMb,
      workerCpuSeconds,
      actionsPerJobHour: Math.round((actionsTotal / jobHours) * 10) / 10,
      actionsTotal,
      jobHours: Math.round(jobHours * 100) / 100,
      wallMs,
      regions: perRegionFigures({
        cells: CELLS,
        calls,
        jobs,
        lags: lagsByEnvironment,
        window: { from, to },
        readsPerMinute: READS_PER_MINUTE,
        createsPerMinute: CREATES_PER_MINUTE,
        perJobWatch: design === 'per-job',
      }),
    };
  } finally {
    await stack.close();
  }
}

async function main(): Promise<void> {
  const designs: Design[] =
    values.design === 'both'
      ? ['coalesced', 'per-job']
      : values.design === 'all'
        ? ['coalesced', 'per-job', 'fixed']
        : [values.design as Design];
  const out: Record<string, unknown>[] = [];
  for (const d of designs) {
    out.push(await measure(d));
    // Each design's figures as soon as they are known (a baseline in a 429 storm runs long).
    console.error(JSON.stringify(out.at(-1)));
  }
  const [head, baseline, fixedBaseline] = out;
  console.log(
    JSON.stringify(
      {
        bench: 'scale',
        ...head,
        ...(baseline ? { baseline } : {}),
        ...(fixedBaseline ? { fixedBaseline } : {}),
        settings: {
          jobs: N,
          workers: WORKERS,
          jobDurationMs: D,
          predictionRuns: RUNS,
          regions: [...new Set(CELLS.map((c) => c.region))],
          projects: [...new Set(CELLS.map((c) => c.project))],
          emulatorQuota: {
            readsPerMinute: READS_PER_MINUTE,
            createsPerMinute: CREATES_PER_MINUTE,
            per: 'project and region',
          },
          createsBudget: {
            perMinute: CREATES_BUDGET,
            sharedBy: WORKERS,
            through: 'the create queue per project and region',
          },
          coalescedWatch: {
            readShare: WATCH_SHARE,
            floorMs: WATCH_FLOOR,
            intervalMs: WATCH_INTERVAL,
            pageSize: PAGE_SIZE,
          },
          perJobWatch: { intervalMs: 60_000 },
          // The workers' malloc: jemalloc when installed (scripts/jemalloc.sh), as in the image.
          workerAllocator: workerAllocatorEnv().LD_PRELOAD ? 'jemalloc' : 'glibc',
        },
        // Issue #26's: lag and reads per (project, region), creates against the time the quota allows.
        targets: {
          quotaErrorsRuns: 0,
          detectionLagP50Ms: 2_000,
          detectionLagP99Ms: 5_000,
          watchReadShareOfQuota: WATCH_SHARE,
          createsOverAllowed: 0.05,
          watchActionsPerJobHour: 4,
          peakWorkerRssMb: 512,
        },
        note: 'actionsPerJobHour divides every Temporal action of the bench (run and child starts, resolve, submit, watch) by job-hours; with jobs of a few minutes the fixed per-job actions dominate it. The watch itself costs one action per 15-minute chunk (4 per job-hour) in both designs.',
        node: process.version,
      },
      null,
      2,
    ),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
