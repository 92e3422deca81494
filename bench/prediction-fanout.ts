// Fan-out of a prediction run, measured on a real dev server, worker and Vertex emulator. Prints
// JSON: wall time and orchestration overhead (wall − ⌈N/M⌉·D), history events per parent run
// (continue-as-new generations) and in total, Vertex calls by method, the peak number of jobs alive
// at once as the emulator saw them, and the worker process's peak RSS.
//   npm run bench:prediction [-- --segments 1000 --concurrency 50 --duration 30s --creates-per-minute 600]
// Creations: the bench's default rate is 600/min because ⌈N/M⌉·D assumes a create rate of at least
// M/D (100/min for the defaults); at Vertex's usual 60/min creates, not jobs, bound the wall time.
import { parseArgs } from 'node:util';
import { startPredictionRun } from '../client/prediction';
import { parseConfig } from '../config/load-config';
import { Duration } from '../config/primitives';
import { predictionRunId } from '../contracts';
import { peakConcurrency } from '../emulators/vertex-ai/control-client';
import { workerNodeOptions } from '../stack/worker-command';
import {
  benchCustomJob,
  benchEnvironment,
  benchSegments,
  registerBenchChampion,
  runBench,
  startBenchStack,
} from './stack';

// Read in main: bench:observability imports this file's config and runs none of it.
function cliArgs() {
  const { values } = parseArgs({
    options: {
      segments: { type: 'string', default: '1000' },
      concurrency: { type: 'string', default: '50' },
      duration: { type: 'string', default: '30s' },
      'creates-per-minute': { type: 'string', default: '600' },
    },
  });
  return {
    N: Number(values.segments),
    M: Number(values.concurrency),
    D: Duration.parse(values.duration),
    rate: Number(values['creates-per-minute']),
  };
}

/** The bench's pipeline config (also bench:observability's): N segments. */
export function fanoutConfig(o: { segments: number; concurrency: number; createsPerMinute: number }) {
  return {
    version: 1,
    pipelines: {
      fanout: {
        environments: { bench: benchEnvironment },
        data: { partition: 'daily', datasets: ['x'], timeout: '1d' },
        training: benchCustomJob,
        // Each job's end is noticed within a second: the overhead measured is the orchestration's, not the poll interval's.
        polling: { interval: '1s', chunk: '15m' },
        model: { registry: { modelId: 'fanout', displayName: 'fanout', servingImage: 'img' } },
        prediction: {
          segments: benchSegments(o.segments),
          input: { uri: 'bq://ct-bench-project.features.{sns}_{country}', format: 'bigquery' },
          output: { uri: 'bq://ct-bench-project.predictions', format: 'bigquery' },
          maxConcurrentJobs: o.concurrency,
          createsPerMinute: o.createsPerMinute,
          summary: 'gs://ct-bench/predictions/{partition}/_SUMMARY.json',
        },
      },
    },
  };
}

async function main() {
  const { N, M, D, rate } = cliArgs();
  const configText = JSON.stringify(fanoutConfig({ segments: N, concurrency: M, createsPerMinute: rate }));
  const config = parseConfig(configText, 'bench config');
  const stack = await startBenchStack();
  const { client, control } = stack;
  // The emulator enforces no quota here and the bench measures the orchestration: the worker's
  // Vertex budget (infra/vertex/budget.ts) creates at the bench's rate and reads without a cap.
  const worker = await stack.startWorkerProcess(configText, {
    CT_VERTEX_CREATES_PER_MINUTE: String(rate),
    CT_VERTEX_READS_PER_MINUTE: String(1_000_000),
  });
  const partition = '2030-06-01';
  await control.addRule({ match: { kind: 'batchPredictionJob' }, script: { queuedMs: 0, pendingMs: 0, runningMs: D } });

  let idleWorkerRssMb: number | undefined;
  const summary = await (async () => {
    await registerBenchChampion(stack, 'fanout');
    idleWorkerRssMb = worker.rssMb();
    const started = Date.now();
    const handle = await startPredictionRun(
      client,
      config,
      { pipeline: 'fanout', environment: 'bench', partition },
      { taskQueue: 'bench' },
    );
    const result = await handle.result();
    return { result, wallMs: Date.now() - started };
  })();
  const peakWorkerRssMb = worker.peakRssMb();
  await worker.service.stop();

  // Every run of the parent (continue-as-new generations) and every child, from the server.
  const parentRuns: number[] = [];
  let childEvents = 0;
  for await (const w of client.workflow.list({
    query: `WorkflowId = "${predictionRunId({ environment: 'bench', pipeline: 'fanout', partition })}"`,
  })) {
    parentRuns.push((await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory()).events?.length ?? 0);
  }
  const children: string[] = [];
  for await (const w of client.workflow.list({
    query: `WorkflowType = "predictionSegment" AND partition = "${partition}"`,
  }))
    children.push(w.workflowId);
  for (let i = 0; i < children.length; i += 50) {
    const counts = await Promise.all(
      children
        .slice(i, i + 50)
        .map(async (id) => (await client.workflow.getHandle(id).fetchHistory()).events?.length ?? 0),
    );
    childEvents += counts.reduce((a, b) => a + b, 0);
  }
  const byMethod = await control.callCounts();
  const jobs = await control.jobs({ kind: 'batchPredictionJob' });
  const idealMs = Math.ceil(N / M) * D;
  const parentTotal = parentRuns.reduce((a, b) => a + b, 0);
  await stack.close();
  return {
    segments: N,
    maxConcurrentJobs: M,
    jobDurationMs: D,
    createsPerMinute: rate,
    verdict: summary.result.verdict,
    progress: summary.result.progress,
    wallMs: summary.wallMs,
    idealMs,
    overheadMs: summary.wallMs - idealMs,
    parentRuns: parentRuns.length,
    parentHistoryEventsPerRun: parentRuns,
    parentHistoryEventsTotal: parentTotal,
    childRuns: children.length,
    historyEventsTotal: parentTotal + childEvents,
    vertexCallsByMethod: byMethod,
    vertexJobs: jobs.length,
    peakConcurrency: peakConcurrency(jobs),
    idleWorkerRssMb,
    peakWorkerRssMb,
    targets: { overheadMsMax: 60_000, parentEventsPerRunMax: 10_000, workerRssMbMax: 512, peakConcurrency: M },
    note: 'the worker is the compiled dist/workers/main.js in its own process, with package.json config.workerNodeOptions; peak RSS is its VmHWM',
    workerNodeOptions,
  };
}

if (require.main === module) runBench('prediction-fanout', main);
