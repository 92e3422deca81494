// The worker's metrics as an on-call team sees them: a real Prometheus (Debian's) scrapes the
// compiled worker and the Temporal server while runs go through (one succeeding after a Vertex 429,
// one failing after Airflow's data-ready, one waiting for a person, then approved, and a batch
// prediction with one of its two segments failing), and every value
// is read back through Prometheus's query API, never from the exporter's text.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { parse } from 'yaml';
import { z } from 'zod';
import { decideCandidate } from '../../client/model';
import { startPredictionRun } from '../../client/prediction';
import { sendDataReady, startTrainingRun } from '../../client/training';
import { trainingStatusQuery } from '../../contracts';
import { metrics } from '../../observability/metrics';
import { freePort, type Service } from '../../stack/process';
import { startPrometheus, type Prometheus } from '../../stack/prometheus';
import { uniquePartition } from '../helpers/isolation';
import {
  approvalModel,
  customJobTraining,
  dailyData,
  kfpTraining,
  monthlyData,
  onQueue,
  projectWith,
  trainsAndPredicts,
} from '../helpers/pipelines';
import { testStorage, uniqueId } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { metricNamesIn } from '../helpers/promql';
import { emulatorControl, vertexClients } from '../helpers/vertex';
import { rollOut, servedPipeline, servingV1, type Served } from '../helpers/serving-steps';
import { startWorkerProcess } from '../helpers/worker-process';
import { testStack } from '../setup/test-stack';

jest.setTimeout(240_000);

const env = testStack();
const taskQueue = uniqueId('tq-obs');
// In `staging`: `engagement`, a PipelineJob per segment whose parameters carry `epochs` (which no
// log line may show), and `churn`, a CustomJob on creator_activity, two attempts each; in `models`:
// `reviewed`, gated on auc and promoted when a person approves within the hour; in `predict`:
// `predicted`, a model and its batch prediction.
const iso = projectWith({
  engagement: {
    data: dailyData(['posts']),
    training: { ...kfpTraining, parameterValues: { ...kfpTraining.parameterValues, epochs: 3 } },
    segments: { countries: ['JP'], sns: ['instagram'] },
    retry: { maxAttempts: 2 },
  },
  churn: { data: monthlyData(['creator_activity']), training: customJobTraining, retry: { maxAttempts: 2 } },
  reviewed: {
    environments: { models: {} },
    data: dailyData(['reviewed_data']),
    training: kfpTraining,
    model: approvalModel,
  },
  predicted: {
    ...trainsAndPredicts({ countries: ['JP', 'US'], sns: ['instagram', 'tiktok'] }),
    environments: { predict: {} },
  },
  // Online serving, rolled out by canary steps (its own endpoint; the rollout goes to this worker's queue).
  served: { ...servedPipeline(), environments: { staging: onQueue(taskQueue) } },
});
const served: Served = { iso, pipeline: 'served', name: 'served-staging' };
const control = emulatorControl();
let worker: Service | undefined;
let prom: Prometheus | undefined;
let connection: Connection | undefined;
let client: Client;

beforeAll(async () => {
  const metricsAddress = `127.0.0.1:${await freePort()}`;
  worker = await startWorkerProcess({
    taskQueue,
    configPath: iso.configPath,
    logFile: workerLog,
    env: { CT_METRICS_ADDRESS: metricsAddress, CT_RUN_GAUGES_INTERVAL_MS: '1000' },
  });
  prom = await startPrometheus({
    jobs: { 'ct-worker': [metricsAddress], 'temporal-server': [new URL(env.CT_TEST_TEMPORAL_METRICS_URL).host] },
  });
  connection = await Connection.connect({ address: env.CT_TEST_TEMPORAL_ADDRESS });
  client = new Client({ connection, namespace: env.CT_TEST_NAMESPACE });
});

afterAll(async () => {
  await prom?.stop();
  await worker?.stop();
  await connection?.close();
  await iso.cleanup();
});

/** The summed value of a query, once Prometheus has scraped enough to satisfy `ok`. */
async function value(promql: string, ok: (v: number) => boolean, timeoutMs = 30_000): Promise<number> {
  let last: number | undefined;
  try {
    return await eventually(async () => {
      const samples = await prom!.query(promql);
      last = samples.length ? samples.reduce((s, x) => s + x.value, 0) : undefined;
      return last !== undefined && ok(last) ? last : undefined;
    }, timeoutMs);
  } catch {
    const name = /([a-z_]+)\{/.exec(promql)?.[1] ?? '';
    const series = await prom!.query(`{__name__=~".*${name.replace(/_(count|sum|bucket)$/, '')}.*"}`);
    throw new Error(
      `Prometheus: ${promql} = ${last ?? 'no series'} after ${timeoutMs / 1000}s; series like it:\n${series
        .slice(0, 10)
        .map((s) => JSON.stringify(s))
        .join('\n')}`,
    );
  }
}
const observability = path.join(__dirname, '..', '..', 'observability');
const DashboardFile = z.object({
  panels: z.array(
    z.object({ type: z.string(), title: z.string(), targets: z.array(z.object({ expr: z.string() })).default([]) }),
  ),
  templating: z.object({ list: z.array(z.object({ name: z.string(), definition: z.string() })) }),
});
// Jest's asymmetric matchers are typed any; these say what they stand for.
const matching = (re: RegExp): string => expect.stringMatching(re) as string;
const anyString = expect.any(String) as string;
const LogLine = z.looseObject({
  time: z.iso.datetime(),
  level: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']),
  message: z.string().min(1),
});
const RulesFile = z.object({
  groups: z.array(z.object({ rules: z.array(z.object({ alert: z.string(), expr: z.string() })) })),
});
const workerLog = path.join(env.CT_TEST_TMP_DIR, `${taskQueue}.log`);
const artifacts = path.join(__dirname, '..', '..', 'test-results', 'observability');
const wf = `taskQueue="${taskQueue}"`;
const ofWorker = 'job="ct-worker"';

test('runs, Vertex calls, jobs, data-ready, the gate and approvals are counted, read back through Prometheus', async () => {
  const config = iso.config;
  // 1. Succeeds, after Vertex answers the first create with 429.
  await control.addFault({ method: 'CreatePipelineJob', project: iso.project, code: 'RESOURCE_EXHAUSTED', times: 1 });
  const ok = await startTrainingRun(
    client,
    config,
    {
      pipeline: 'engagement',
      environment: 'staging',
      partition: uniquePartition(),
      segment: 'jp-instagram',
      assumeDataReady: true,
    },
    { taskQueue },
  );
  // The one 429 is this run's: the next PipelineJob (reviewed's) is started once it has been answered,
  // since the create queue dispatches in no fixed order across its partitions.
  await eventually(
    async () =>
      (await control.calls({ project: iso.project, method: 'CreatePipelineJob' })).some(
        (c) => c.codeName === 'RESOURCE_EXHAUSTED',
      ) || undefined,
    60_000,
  );
  // 2. Started by Airflow's data-ready; both attempts' CustomJobs fail.
  await control.addRule({
    match: { project: iso.project, kind: 'customJob' },
    script: { outcome: 'FAILED', error: { code: 8, message: 'Out of quota' } },
  });
  const report = await sendDataReady(
    client,
    config,
    { environment: 'staging', dataset: 'creator_activity', partition: uniquePartition('monthly') },
    { taskQueue },
  );
  const failing = client.workflow.getHandle(report.reached[0]!.workflowId);
  // 3. Passes the gate and waits for a person.
  const reviewedPartition = uniquePartition();
  await control.addRule({
    match: { project: iso.project, labels: { 'ct-pipeline': 'reviewed' } },
    script: { metrics: { auc: 0.9 } },
  });
  const reviewed = await startTrainingRun(
    client,
    config,
    { pipeline: 'reviewed', environment: 'models', partition: reviewedPartition, assumeDataReady: true },
    { taskQueue },
  );

  expect((await ok.result()).status).toBe('succeeded');
  await expect(failing.result()).rejects.toBeInstanceOf(WorkflowFailedError);
  await eventually(
    async () => ((await reviewed.query(trainingStatusQuery)).phase === 'awaiting-approval' ? true : undefined),
    60_000,
  );

  // While it waits: the visibility gauges see it (other suites share the namespace, hence ≥).
  expect(
    await value(
      `max(${metrics.approvalsWaiting.name}{${ofWorker},pipeline="reviewed",environment="models"})`,
      (v) => v >= 1,
    ),
  ).toBeGreaterThanOrEqual(1);
  expect(
    await value(`max(${metrics.approvalOldestRatio.name}{${ofWorker},pipeline="reviewed"})`, (v) => v > 0),
  ).toBeLessThan(0.5);
  expect(
    await value(
      `max(${metrics.runsInPhase.name}{${ofWorker},workflow_type="trainingRun",phase="awaiting-approval"})`,
      (v) => v >= 1,
    ),
  ).toBeGreaterThanOrEqual(1);
  expect(
    await value(`max(${metrics.phaseOldest.name}{${ofWorker},phase="awaiting-approval"})`, (v) => v > 0),
  ).toBeGreaterThan(0);

  await decideCandidate(
    client,
    config,
    { pipeline: 'reviewed', environment: 'models', partition: reviewedPartition },
    'approve',
    { by: 'obs-test', reason: 'metrics' },
  );
  expect((await reviewed.result()).status).toBe('succeeded');

  // 4. Batch prediction of two segments with a fresh champion: one segment's job fails (verdict partial).
  const champion = await startTrainingRun(
    client,
    config,
    { pipeline: 'predicted', environment: 'predict', partition: uniquePartition(), assumeDataReady: true },
    { taskQueue },
  );
  expect((await champion.result()).status).toBe('succeeded');
  const predictPartition = uniquePartition();
  await Promise.all(
    ['JP-instagram', 'US-tiktok'].map((s) =>
      testStorage()
        .bucket(env.CT_TEST_GCS_BUCKET)
        .file(`predict-in/predicted/${predictPartition}/${s}/part-0.jsonl`)
        .save('{"user":"a"}\n', { resumable: false }),
    ),
  );
  await control.addRule({
    match: { project: iso.project, kind: 'batchPredictionJob', labels: { 'ct-sns': 'tiktok' } },
    script: { outcome: 'FAILED', error: { code: 13, message: 'bad rows' } },
  });
  const prediction = await startPredictionRun(
    client,
    config,
    {
      pipeline: 'predicted',
      environment: 'predict',
      partition: predictPartition,
      segments: ['jp-instagram', 'us-tiktok'],
    },
    { taskQueue },
  );
  expect((await prediction.result()).verdict).toBe('partial');

  // Runs started and ended, by pipeline, environment and outcome (workflow metrics carry the task queue).
  const runs = (name: string, labels: string) => `sum(${name}{${wf},workflowType="trainingRun",${labels}})`;
  expect(await value(runs(metrics.runsStarted.name, 'environment=~"staging|models"'), (v) => v >= 3)).toBe(3);
  expect(
    await value(
      runs(metrics.runsEnded.name, 'pipeline="engagement",environment="staging",outcome="succeeded"'),
      (v) => v >= 1,
    ),
  ).toBe(1);
  expect(await value(runs(metrics.runsEnded.name, 'pipeline="churn",outcome="failed"'), (v) => v >= 1)).toBe(1);
  expect(await value(runs(metrics.runsEnded.name, 'pipeline="reviewed",outcome="succeeded"'), (v) => v >= 1)).toBe(1);
  expect(await value(runs(`${metrics.runDuration.name}_count`, 'environment=~"staging|models"'), (v) => v >= 3)).toBe(
    3,
  );
  // Data-ready received, and its latency to the job's create.
  expect(await value(runs(metrics.dataReadyReceived.name, 'pipeline="churn"'), (v) => v >= 1)).toBe(1);
  expect(await value(runs(`${metrics.dataReadyToSubmit.name}_count`, 'pipeline="churn"'), (v) => v >= 1)).toBe(1);
  // Jobs by kind and end state: two failed CustomJobs (two attempts), two succeeded PipelineJobs.
  expect(await value(runs(metrics.jobsEnded.name, 'kind="customJob",state="FAILED"'), (v) => v >= 2)).toBe(2);
  expect(
    await value(
      runs(`${metrics.jobDuration.name}_count`, 'environment=~"staging|models",kind="pipelineJob",state="SUCCEEDED"'),
      (v) => v >= 2,
    ),
  ).toBe(2);
  expect(await value(runs(`${metrics.watchLag.name}_count`, 'environment=~"staging|models"'), (v) => v >= 4)).toBe(4);
  // Prediction: segments by outcome, their jobs by kind, the parent's verdict.
  const segments = (outcome: string) =>
    `sum(${metrics.predictionSegments.name}{${wf},workflowType="predictionSegment",pipeline="predicted",outcome="${outcome}"})`;
  expect(await value(segments('succeeded'), (v) => v >= 1)).toBe(1);
  expect(await value(segments('failed'), (v) => v >= 1)).toBe(1);
  expect(await value(`sum(${metrics.jobsEnded.name}{${wf},kind="batchPredictionJob"})`, (v) => v >= 2)).toBe(2);
  expect(
    await value(`sum(${metrics.runsEnded.name}{${wf},workflowType="predictionRun",outcome="partial"})`, (v) => v >= 1),
  ).toBe(1);
  // The create queue: both segments' creates went through it and left it (backlog back to 0).
  const queue = (m: string) => `sum(${m}{${wf},workflowType="predictionSegment",pipeline="predicted"})`;
  expect(await value(queue(metrics.createQueueEntered.name), (v) => v >= 2)).toBe(2);
  expect(await value(queue(metrics.createQueueLeft.name), (v) => v >= 2)).toBe(2);
  // The gate and the approval.
  expect(await value(runs(metrics.gateVerdicts.name, 'pipeline="reviewed",verdict="passed"'), (v) => v >= 1)).toBe(1);
  expect(
    await value(runs(metrics.approvalDecisions.name, 'pipeline="reviewed",decision="approved"'), (v) => v >= 1),
  ).toBe(1);
  // Vertex calls by method and gRPC code, from the worker process.
  expect(
    await value(
      `sum(${metrics.vertexCalls.name}{${ofWorker},method="CreatePipelineJob",code="RESOURCE_EXHAUSTED"})`,
      (v) => v >= 1,
    ),
  ).toBe(1);
  // Three PipelineJobs: engagement, reviewed and the prediction's champion (predicted).
  expect(
    await value(`sum(${metrics.vertexCalls.name}{${ofWorker},method="CreatePipelineJob",code="OK"})`, (v) => v >= 3),
  ).toBe(3);
  expect(
    await value(`sum(${metrics.vertexCalls.name}{${ofWorker},method="CreateCustomJob",code="OK"})`, (v) => v >= 2),
  ).toBe(2);
  expect(
    await value(`sum(${metrics.vertexCallLatency.name}_count{${ofWorker},method="UploadModel"})`, (v) => v >= 1),
  ).toBeGreaterThanOrEqual(1);
  // The coalesced watch (the worker's default): its List pages and its current wait, by region and kind.
  expect(
    await value(`sum(${metrics.vertexWatchLists.name}{${ofWorker},kind="pipelineJob"})`, (v) => v >= 1),
  ).toBeGreaterThanOrEqual(1);
  expect(
    await value(`max(${metrics.vertexWatchInterval.name}{${ofWorker},kind="pipelineJob"})`, (v) => v > 0),
  ).toBeGreaterThan(0);
  // The SDK's own metrics and the Temporal server's billable actions, from the same Prometheus.
  expect(
    await value(`sum(temporal_workflow_completed{task_queue="${taskQueue}"})`, (v) => v >= 2),
  ).toBeGreaterThanOrEqual(2);
  expect(
    await value(`sum(temporal_num_pollers{${ofWorker},poller_type="workflow_task"})`, (v) => v > 0),
  ).toBeGreaterThan(0);
  expect(
    await value(`sum(action{job="temporal-server",action_type="grpc_StartWorkflowExecution"})`, (v) => v >= 1),
  ).toBeGreaterThanOrEqual(1);
});

test('a canary rollout is counted: its end by outcome and each step by verdict', async () => {
  const vertex = vertexClients();
  const { v2, load } = await servingV1(vertex, served);
  try {
    const result = await (await rollOut(client, served, v2.versionId)).result();
    expect(result.outcome).toBe('done');
  } finally {
    await load.stop();
    await vertex.close();
  }
  expect(
    await value(`sum(${metrics.rolloutsEnded.name}{${ofWorker},pipeline="served",outcome="done"})`, (v) => v >= 1),
  ).toBe(1);
  expect(
    await value(`sum(${metrics.rolloutStepDuration.name}_count{${ofWorker},verdict="healthy"})`, (v) => v >= 2),
  ).toBe(2);
});

test('every dashboard panel and alert rule reads only metrics this scrape has', async () => {
  // What the scrape holds (also kept for anyone writing a panel).
  const scraped = await prom!.metricNames();
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(path.join(artifacts, 'scraped-metrics.txt'), scraped.join('\n') + '\n');
  expect(scraped).toEqual(expect.arrayContaining([metrics.runsStarted.name, 'temporal_num_pollers', 'action']));
  const has = new Set(scraped);
  const missing: string[] = [];
  const dashboard = DashboardFile.parse(
    JSON.parse(readFileSync(path.join(observability, 'grafana', 'dashboards', 'ct-coordinator.json'), 'utf8')),
  );
  const panels = dashboard.panels.filter((p) => p.type !== 'row');
  expect(panels.length).toBeGreaterThan(10);
  for (const panel of panels) {
    const names = panel.targets.flatMap((t) => metricNamesIn(t.expr));
    // A panel whose query names no metric could never be caught out.
    if (!names.length) missing.push(`${panel.title}: no metric in its queries`);
    for (const n of names) if (!has.has(n)) missing.push(`panel "${panel.title}": ${n}`);
  }
  for (const v of dashboard.templating.list) {
    const n = /label_values\((\w+)/.exec(v.definition)?.[1];
    if (!n || !has.has(n)) missing.push(`variable ${v.name}: ${n ?? v.definition}`);
  }
  const rules = RulesFile.parse(parse(readFileSync(path.join(observability, 'alerts.yml'), 'utf8')));
  for (const rule of rules.groups.flatMap((g) => g.rules)) {
    const names = metricNamesIn(rule.expr);
    if (!names.length) missing.push(`alert ${rule.alert}: no metric`);
    for (const n of names) if (!has.has(n)) missing.push(`alert ${rule.alert}: ${n}`);
  }
  expect(missing).toEqual([]);
});

test('every line the worker printed is one JSON object with time, level, message and the run it is about', async () => {
  await worker!.stop();
  const text = readFileSync(workerLog, 'utf8');
  const lines = text.trimEnd().split('\n');
  const bad = lines.filter((l) => {
    try {
      return !LogLine.safeParse(JSON.parse(l)).success;
    } catch {
      return true;
    }
  });
  expect(bad).toEqual([]);
  const entries = lines.map((l) => LogLine.parse(JSON.parse(l)));
  const find = (pred: (e: z.infer<typeof LogLine>) => boolean, what: string) => {
    const found = entries.find(pred);
    if (!found) throw new Error(`no log line ${what} among ${entries.length}:\n${text.slice(0, 4000)}`);
    return found;
  };
  expect(find((e) => e.message.startsWith('worker: polling task queue'), 'saying the worker polls').level).toBe('INFO');
  // The failed run's end (workflow logger, through the runtime) with its full context.
  expect(find((e) => e.message === 'run ended' && e.pipeline === 'churn', 'for the failed run')).toMatchObject({
    level: 'INFO',
    workflowId: matching(/^training:staging:churn:all:/),
    runId: anyString,
    workflowType: 'trainingRun',
    environment: 'staging',
    partition: matching(/^\d{4}-\d{2}$/),
    outcome: 'failed',
    vertexJob: matching(/^projects\/[^/]+\/locations\/us-central1\/customJobs\/\d+$/),
  });
  expect(find((e) => e.message === 'Vertex job ended' && e.state === 'FAILED', 'for a failed job')).toMatchObject({
    pipeline: 'churn',
    kind: 'customJob',
  });
  // An activity's line (the SDK's, for the create Vertex answered with 429): activity type, attempt, run.
  expect(
    find((e) => e.activityType === 'submitTrainingJob' && e.level === 'WARN', 'from the submit that got a 429'),
  ).toMatchObject({
    attempt: 1,
    workflowId: matching(/^training:staging:engagement:jp-instagram:/),
    runId: anyString,
    workflowType: 'trainingRun',
    pipeline: 'engagement',
    environment: 'staging',
    segment: 'jp-instagram',
    partition: matching(/^\d{4}-\d{2}-\d{2}$/),
  });
  // No parameter values or credentials: the engagement plan's parameterValues carry epochs, the worker's env a metadata flag.
  expect(text).not.toMatch(/epochs|pipelineSpec"|private_key|"token"/);
});

test('ct, piped (stdout not a terminal), writes its diagnostics as JSON lines; stdout stays the result', async () => {
  const run = promisify(execFile);
  const bin = path.join(__dirname, '..', '..', 'bin', 'ct.cjs');
  const refused = await run(
    process.execPath,
    [bin, '--config', iso.configPath, 'train', '--pipeline', 'nope', '--env', 'staging', '--partition', '2026-01-01'],
    { env: { ...process.env, TEMPORAL_ADDRESS: env.CT_TEST_TEMPORAL_ADDRESS, CT_LOG_FORMAT: '' } },
  ).then(
    (ok) => ({ ...ok, code: 0 }),
    (err: { code: number; stdout: string; stderr: string }) => err,
  );
  expect(refused.code).toBe(1);
  expect(refused.stdout).toBe('');
  const lines = refused.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(LogLine.parse(JSON.parse(lines[0]!))).toMatchObject({
    level: 'ERROR',
    message: matching(/^ct: .*pipeline.*nope/),
    command: 'train',
  });
});
