// Cloud Monitoring's ListTimeSeries through Google's own @google-cloud/monitoring client: the
// endpoints' online-prediction metrics per deployed model, computed from the requests the emulator
// served, so scripted errors and latency show up where a rollout reads health.
import { createEndpoint, deployModel, uploadServingModel } from '../helpers/endpoints';
import { startPredictionLoad } from '../helpers/prediction-load';
import { emulatorControl, monitoringClient, rpcError, uniqueProject, vertexClients } from '../helpers/vertex';

const clients = vertexClients();
const monitoring = monitoringClient();
const control = emulatorControl();

afterAll(async () => {
  await Promise.all([clients.close(), monitoring.close()]);
});

const METRIC = 'aiplatform.googleapis.com/prediction/online/';
const INVALID_ARGUMENT = 3;
const RESOURCE_EXHAUSTED = 8;

/** Two deployed models at 50/50; the canary fails a fifth of its requests and is 200 ms slower. */
async function servedTraffic() {
  const project = uniqueProject();
  const { model } = await uploadServingModel(clients, project);
  const endpoint = (await createEndpoint(clients, project)).name!;
  const endpointId = endpoint.split('/').pop()!;
  const stable = (await deployModel(clients, endpoint, model, { '0': 100 })).id!;
  const canary = (await deployModel(clients, endpoint, model, { '0': 50, [stable]: 50 })).id!;
  await control.addPredictRule({
    match: { project, deployedModelId: canary },
    script: { errorRate: 0.2, latencyMs: 200 },
  });
  const started = Date.now();
  await startPredictionLoad({ client: clients.predictions, endpoint, count: 40, ratePerSecond: 100 }).done;
  return { project, endpointId, stable, canary, started };
}

const window = (started: number) => ({
  startTime: { seconds: Math.floor(started / 1000) - 1 },
  endTime: { seconds: Math.ceil(Date.now() / 1000) + 1 },
});
const whole = { alignmentPeriod: { seconds: 3600 } };

async function series(project: string, metric: string, endpointId: string, aggregation: object, extra = '') {
  const [ts] = await monitoring.listTimeSeries({
    name: `projects/${project}`,
    filter: `metric.type = "${METRIC}${metric}" AND resource.labels.endpoint_id = "${endpointId}"${extra}`,
    interval: window(Date.now() - 60_000),
    aggregation,
  });
  return ts;
}

const byModel = <T>(ts: { metric?: { labels?: Record<string, string> | null } | null }[], value: (s: never) => T) =>
  Object.fromEntries(ts.map((s) => [s.metric!.labels!.deployed_model_id!, value(s as never)]));

type Series = {
  points?: { value?: { int64Value?: string | number | Long | null; doubleValue?: number | null } | null }[] | null;
};
const int = (s: Series) => Number(s.points![0]!.value!.int64Value);
const dbl = (s: Series) => s.points![0]!.value!.doubleValue!;

test('prediction_count and error_count per deployed model count what was served, as INT64 DELTA', async () => {
  const { project, endpointId, stable, canary } = await servedTraffic();
  const counts = await series(project, 'prediction_count', endpointId, { ...whole, perSeriesAligner: 'ALIGN_DELTA' });
  expect(byModel(counts, int)).toEqual({ [stable]: 20, [canary]: 20 });
  expect(counts[0]).toMatchObject({
    metricKind: 'DELTA',
    valueType: 'INT64',
    resource: {
      type: 'aiplatform.googleapis.com/Endpoint',
      labels: { endpoint_id: endpointId, location: 'us-central1' },
    },
  });
  expect(counts[0]!.resource!.labels!.resource_container).toMatch(/^\d{12}$/);
  const errors = await series(project, 'error_count', endpointId, { ...whole, perSeriesAligner: 'ALIGN_SUM' });
  expect(byModel(errors, int)).toEqual({ [stable]: 0, [canary]: 4 });

  // One deployed model by its label; all of them summed by REDUCE_SUM.
  const one = await series(
    project,
    'error_count',
    endpointId,
    { ...whole, perSeriesAligner: 'ALIGN_DELTA' },
    ` AND metric.labels.deployed_model_id = "${canary}"`,
  );
  expect(one.map(int)).toEqual([4]);
  const total = await series(project, 'prediction_count', endpointId, {
    ...whole,
    perSeriesAligner: 'ALIGN_DELTA',
    crossSeriesReducer: 'REDUCE_SUM',
  });
  expect(total.map(int)).toEqual([40]);
  const rate = await series(project, 'prediction_count', endpointId, { ...whole, perSeriesAligner: 'ALIGN_RATE' });
  expect(byModel(rate, dbl)[canary]).toBeCloseTo(20 / 3600);
});

test('prediction_latencies is a DISTRIBUTION in ms whose p95 per deployed model shows the scripted latency', async () => {
  const { project, endpointId, stable, canary } = await servedTraffic();
  const p95 = await series(project, 'prediction_latencies', endpointId, {
    ...whole,
    perSeriesAligner: 'ALIGN_PERCENTILE_95',
  });
  const values = byModel(p95, dbl);
  expect(values[canary]).toBeGreaterThanOrEqual(200);
  expect(values[stable]).toBeLessThan(200);
  expect(p95[0]).toMatchObject({ metricKind: 'GAUGE', valueType: 'DOUBLE' });

  const dist = await series(project, 'prediction_latencies', endpointId, { ...whole, perSeriesAligner: 'ALIGN_DELTA' });
  const canaryDist = dist.find((s) => s.metric!.labels!.deployed_model_id === canary)!.points![0]!.value!
    .distributionValue!;
  expect(Number(canaryDist.count)).toBe(20);
  expect(canaryDist.mean).toBeGreaterThanOrEqual(200);
  expect(dist[0]).toMatchObject({ valueType: 'DISTRIBUTION', unit: 'ms' });
});

test('raw points are 60 s samples; only the interval asked for counts', async () => {
  const { project, endpointId, started } = await servedTraffic();
  const [raw] = await monitoring.listTimeSeries({
    name: `projects/${project}`,
    filter: `metric.type = "${METRIC}prediction_count" AND resource.labels.endpoint_id = "${endpointId}"`,
    interval: window(started),
  });
  const total = raw.flatMap((s) => s.points!).reduce((n, p) => n + Number(p.value!.int64Value), 0);
  expect(total).toBe(40);
  for (const p of raw.flatMap((s) => s.points!))
    expect(Number(p.interval!.endTime!.seconds) - Number(p.interval!.startTime!.seconds)).toBe(60);
  const [before] = await monitoring.listTimeSeries({
    name: `projects/${project}`,
    filter: `metric.type = "${METRIC}prediction_count"`,
    interval: {
      startTime: { seconds: Math.floor(started / 1000) - 120 },
      endTime: { seconds: Math.floor(started / 1000) - 60 },
    },
  });
  expect(before).toEqual([]);
});

test('an unsupported filter term is INVALID_ARGUMENT naming the term', async () => {
  const err = await rpcError(
    monitoring.listTimeSeries({
      name: `projects/${uniqueProject()}`,
      filter: `metric.type = "${METRIC}prediction_count" AND resource.labels.zone = starts_with("us")`,
      interval: window(Date.now()),
    }),
  );
  expect(err.code).toBe(INVALID_ARGUMENT);
  expect(err.details).toContain('resource.labels.zone = starts_with("us")');
});

test('a 429 fault on ListTimeSeries reaches the Monitoring client', async () => {
  const project = uniqueProject();
  await control.addFault({ method: 'ListTimeSeries', project, code: 'RESOURCE_EXHAUSTED', times: 1 });
  // The client retries only UNAVAILABLE for ListTimeSeries (its client config): a 429 reaches the caller.
  const err = await rpcError(
    monitoring.listTimeSeries({
      name: `projects/${project}`,
      filter: `metric.type = "${METRIC}error_count"`,
      interval: window(Date.now()),
    }),
  );
  expect(err.code).toBe(RESOURCE_EXHAUSTED);
  const [ok] = await monitoring.listTimeSeries({
    name: `projects/${project}`,
    filter: `metric.type = "${METRIC}error_count"`,
    interval: window(Date.now()),
  });
  expect(ok).toEqual([]);
  expect((await control.calls({ project, method: 'ListTimeSeries' })).map((c) => c.codeName)).toEqual([
    'RESOURCE_EXHAUSTED',
    'OK',
  ]);
});
