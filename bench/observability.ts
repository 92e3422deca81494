// What observability costs the worker, and what the bench's runs cost. Prints JSON.
//
// The compiled worker (as `npm start` runs it) does the same work with metrics and JSON logs off
// (no CT_METRICS_ADDRESS, CT_LOG_FORMAT=pretty) and on (CT_METRICS_ADDRESS with a scrape every 5 s,
// three times Prometheus' usual rate, the run gauges at their default, CT_LOG_FORMAT=json), in
// alternating rounds: bench:training's pipeline (training runs started by data-ready, a 1-minute job
// at 60× time) and bench:prediction's fan-out. Its CPU seconds (/proc/<pid>/stat) and peak RSS
// (VmHWM) per round, and the overhead of "on" over "off" (target ≤ 5 %).
//
// The cost report: each run's own cost from its result (workflows/interceptors/run-cost.ts), checked
// against `ct cost`'s count from history, as actions per run and dollars per 1,000 runs at the
// default prices (config/prices.yaml).
//   npm run bench:observability [-- --training-runs 20 --segments 100 --concurrency 20 --duration 2s --rounds 4]
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { runCost } from '../client/cost';
import { startPredictionRun } from '../client/prediction';
import { sendDataReady } from '../client/training';
import { parseConfig } from '../config/load-config';
import { pricesOnce } from '../config/prices';
import { Duration } from '../config/primitives';
import { trainingRunId, type PredictionSummary, type RunCost, type TrainingRunResult } from '../contracts';
import { freePort } from '../stack/process';
import { fanoutConfig } from './prediction-fanout';
import { registerBenchChampion, runBench, startBenchStack } from './stack';
import { trainingBenchConfigText, uploadTrainingSpec } from './training-run';

const { values } = parseArgs({
  options: {
    'training-runs': { type: 'string', default: '20' },
    segments: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '20' },
    duration: { type: 'string', default: '2s' },
    rounds: { type: 'string', default: '4' },
  },
});
const trainingRuns = Number(values['training-runs']);
const segments = Number(values.segments);
const jobMs = Duration.parse(values.duration);
const rounds = Number(values.rounds);
const SCALE = 60;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const round = (n: number, digits = 6) => Math.round(n * 10 ** digits) / 10 ** digits;
const day = (i: number) =>
  `2031-${String(1 + (Math.floor(i / 28) % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`;

async function main() {
  const stack = await startBenchStack();
  const { client, control } = stack;
  await uploadTrainingSpec(stack);
  await registerBenchChampion(stack, 'fanout');
  const training = parseYaml(trainingBenchConfigText(SCALE)) as { pipelines: Record<string, unknown> };
  const fanout = fanoutConfig({ segments, concurrency: Number(values.concurrency), createsPerMinute: 600 });
  const configText = JSON.stringify({
    version: 1,
    pipelines: { bench: training.pipelines.bench, ...fanout.pipelines },
  });
  const config = parseConfig(configText, 'bench config');
  await control.addRule({
    match: { kind: 'batchPredictionJob' },
    script: { queuedMs: 0, pendingMs: 0, runningMs: jobMs },
  });
  await control.addRule({
    match: { kind: 'pipelineJob' },
    script: { queuedMs: 0, pendingMs: 0, runningMs: Math.round(60_000 / SCALE) },
  });

  const measured: { mode: 'off' | 'on'; round: number; cpuSeconds: number; peakRssMb: number; wallMs: number }[] = [];
  let costs: { training: { workflowId: string; cost: RunCost }[]; prediction?: { workflowId: string; cost: RunCost } } =
    { training: [] };
  let n = 0;
  for (let r = 0; r < rounds; r++) {
    for (const mode of ['off', 'on'] as const) {
      const metricsPort = await freePort();
      const worker = await stack.startWorkerProcess(configText, {
        // As bench:prediction's: the emulator enforces no quota here, so the worker's Vertex budget
        // creates at the bench's rate and reads without a cap.
        CT_VERTEX_CREATES_PER_MINUTE: '600',
        CT_VERTEX_READS_PER_MINUTE: String(1_000_000),
        ...(mode === 'on'
          ? { CT_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`, CT_LOG_FORMAT: 'json' }
          : { CT_LOG_FORMAT: 'pretty' }),
      });
      const scrape =
        mode === 'on'
          ? setInterval(
              () =>
                void fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
                  (res) => res.text(),
                  () => '',
                ),
              5_000,
            )
          : undefined;
      const cpu0 = worker.cpuSeconds();
      const started = Date.now();
      const partitions = Array.from({ length: trainingRuns }, () => day(n++));
      const trained = Promise.all(
        partitions.map(async (partition) => {
          await sendDataReady(
            client,
            config,
            { environment: 'bench', dataset: 'bench_data', partition },
            { taskQueue: 'bench' },
          );
          const workflowId = trainingRunId({ pipeline: 'bench', environment: 'bench', partition });
          const result = (await client.workflow.getHandle(workflowId).result()) as TrainingRunResult;
          return { workflowId, cost: result.cost! };
        }),
      );
      const predicted = (async () => {
        const handle = await startPredictionRun(
          client,
          config,
          { pipeline: 'fanout', environment: 'bench', partition: day(n++) },
          { taskQueue: 'bench' },
        );
        const summary: PredictionSummary = await handle.result();
        if (summary.verdict !== 'succeeded') throw new Error(`prediction run ended ${summary.verdict}`);
        return { workflowId: handle.workflowId, cost: summary.cost! };
      })();
      costs = { training: await trained, prediction: await predicted };
      const wallMs = Date.now() - started;
      measured.push({
        mode,
        round: r + 1,
        cpuSeconds: worker.cpuSeconds() - cpu0,
        peakRssMb: worker.peakRssMb()!,
        wallMs,
      });
      if (scrape) clearInterval(scrape);
      await worker.service.stop();
    }
  }

  const median = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  // Each round's on/off ratio: the rounds are paired in time, so load from elsewhere on the machine
  // (which moves CPU seconds too) weighs on both halves of a pair; the median pair is reported.
  const pairRatio = (k: 'cpuSeconds' | 'peakRssMb') =>
    round(
      median(
        Array.from({ length: rounds }, (_, r) => {
          const [off, on] = ['off', 'on'].map((mode) => measured.find((m) => m.round === r + 1 && m.mode === mode)![k]);
          return ((on! - off!) / off!) * 100;
        }),
      ),
      1,
    );
  const of = (mode: 'off' | 'on', k: 'cpuSeconds' | 'peakRssMb') =>
    mean(measured.filter((m) => m.mode === mode).map((m) => m[k]));
  const overhead = (k: 'cpuSeconds' | 'peakRssMb') => round(((of('on', k) - of('off', k)) / of('off', k)) * 100, 1);

  // The cost report, from the last round's runs: each run's own figure, and ct cost's from history.
  const prices = pricesOnce();
  const fromHistory = await Promise.all(costs.training.map((t) => runCost(client, t.workflowId, prices)));
  const prediction = costs.prediction!;
  const predictionHistory = await runCost(client, prediction.workflowId, prices);
  const trainingActions = costs.training.map((t) => t.cost.actions.total);
  const perThousand = (usd: number) => round(usd * 1000, 4);
  const out = {
    workload: {
      trainingRuns,
      trainingJob: `PipelineJob, 1 minute at ${SCALE}× time`,
      predictionSegments: segments,
      maxConcurrentJobs: Number(values.concurrency),
      batchJobMs: jobMs,
    },
    rounds: measured,
    cpuSecondsMean: { off: round(of('off', 'cpuSeconds'), 2), on: round(of('on', 'cpuSeconds'), 2) },
    peakRssMbMean: { off: round(of('off', 'peakRssMb'), 1), on: round(of('on', 'peakRssMb'), 1) },
    overheadPercent: { cpu: overhead('cpuSeconds'), peakRss: overhead('peakRssMb') },
    overheadPercentMedianOfPairs: { cpu: pairRatio('cpuSeconds'), peakRss: pairRatio('peakRssMb') },
    target: { overheadPercentMax: 5 },
    cost: {
      prices: { asOf: prices.asOf, currency: prices.currency, perMillionActions: prices.temporal.perMillionActions },
      trainingRun: {
        actionsPerRun: round(mean(trainingActions), 2),
        actionsPerRunFromHistory: round(mean(fromHistory.map((c) => c.actions.total)), 2),
        byKind: costs.training[0]!.cost.actions.byKind,
        temporalUsdPer1000Runs: perThousand(mean(costs.training.map((t) => t.cost.temporalUsd))),
        vertexUsdPer1000Runs: perThousand(mean(costs.training.map((t) => t.cost.vertex.usd))),
        totalUsdPer1000Runs: perThousand(mean(costs.training.map((t) => t.cost.totalUsd))),
        note: 'a 1-minute PipelineJob: Vertex bills its pipeline run fee; its components’ machines are not in the plan',
      },
      predictionRun: {
        segments,
        ownActions: prediction.cost.actions.total,
        segmentActions: prediction.cost.children?.actions,
        actionsPerSegment: round((prediction.cost.children?.actions ?? 0) / segments, 2),
        ownActionsFromHistory: predictionHistory.actions.total,
        segmentActionsFromHistory: predictionHistory.children?.actions,
        totalUsd: prediction.cost.totalUsd,
        totalUsdFromHistory: predictionHistory.totalUsd,
        totalUsdPer1000Runs: perThousand(prediction.cost.totalUsd),
        note: `each segment a BatchPredictionJob of ${jobMs} ms on 1 × n1-standard-4 (the emulator's running time)`,
      },
    },
  };
  await stack.close();
  return out;
}

runBench('observability', main);
