// How long the soak's checker takes on thousands of runs: a prediction run of N segments (N child
// runs, its continue-as-new generations, N batch jobs) on the bench stack and the compiled worker,
// then checkSoak over that world, timed. Prints JSON: runs and histories read, check time, and
// whether every invariant held.
//   npm run bench:soak-check [-- --segments 2000]
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startPredictionRun } from '../../client/prediction';
import { parseConfig } from '../../config/load-config';
import { fanoutConfig } from '../prediction-fanout';
import { registerBenchChampion, runBench, startBenchStack } from '../stack';
import { checkSoak } from './checker';
import { emptyLedger, type SoakLedger } from './ledger';

const { values } = parseArgs({ options: { segments: { type: 'string', default: '2000' } } });
const N = Number(values.segments);

async function main() {
  const configText = JSON.stringify(fanoutConfig({ segments: N, concurrency: 200, createsPerMinute: 600 }));
  const stack = await startBenchStack();
  const configPath = path.join(stack.tmp, 'soak-pipelines.json');
  writeFileSync(configPath, configText);
  const worker = await stack.startWorkerProcess(configText, {
    CT_VERTEX_CREATES_PER_MINUTE: '600',
    CT_VERTEX_READS_PER_MINUTE: String(1_000_000),
  });
  await stack.control.addRule({
    match: { kind: 'batchPredictionJob' },
    script: { queuedMs: 0, pendingMs: 0, runningMs: 1_000 },
  });
  await registerBenchChampion(stack, 'fanout');
  const startedAt = new Date().toISOString();
  const t0 = Date.now();
  const handle = await startPredictionRun(
    stack.client,
    parseConfig(configText, configPath),
    { pipeline: 'fanout', environment: 'bench', partition: '2030-06-01' },
    { taskQueue: 'bench' },
  );
  await handle.result();
  const soakMs = Date.now() - t0;
  await worker.service.stop();

  const ledger: SoakLedger = {
    ...emptyLedger(
      {
        temporalAddress: stack.temporal.address,
        namespace: 'ct-bench',
        taskQueue: 'bench',
        vertexControlUrl: stack.control.baseUrl,
        vertexApiEndpoint: stack.monitoringEndpoint,
        gcsEndpoint: stack.storage.apiEndpoint,
        configPath,
      },
      startedAt,
    ),
    endedAt: new Date().toISOString(),
  };
  const clients = { temporal: stack.client, vertex: stack.control, storage: stack.storage };
  const checks = [];
  for (let i = 0; i < 2; i++) {
    const c0 = performance.now();
    const result = await checkSoak(ledger, clients);
    checks.push({
      ms: Math.round(performance.now() - c0),
      ok: result.ok,
      failed: result.invariants.filter((x) => !x.ok).map((x) => `${x.name}: ${x.detail}`),
      read: result.figures.read,
      jobs: result.figures.jobs.total,
      history: { events: result.figures.history.events, bytes: result.figures.history.bytes },
    });
  }
  await stack.close();
  return { segments: N, soakMs, checks, target: { checkMsMax: 60_000 } };
}

runBench('soak-check-speed', main);
