import { status } from '@grpc/grpc-js';
import type { PredictionEntry } from './control-schema';
import { RpcError } from './errors';
import { paginate } from './job-repository';
import { parseSeriesFilter, type SeriesFilter } from './monitoring-filter';
import { projectNumberOf } from './names';
import { sameProject } from './policy';
import { fromTimestamp, toTimestamp } from './protos';
import type { Store } from './store';

// Cloud Monitoring's MetricService.ListTimeSeries for the online-prediction metrics Vertex exports
// per Endpoint and DeployedModel, computed from the requests the emulator served
// (prediction-service.ts): prediction_count and error_count (INT64 DELTA) and prediction_latencies
// (DISTRIBUTION DELTA, ms), resource aiplatform.googleapis.com/Endpoint. Raw points are 60 s samples;
// an aggregation aligns them to periods that end at the interval's end, newest first, as Monitoring does.

const PREFIX = 'aiplatform.googleapis.com/prediction/online/';
const RESOURCE_TYPE = 'aiplatform.googleapis.com/Endpoint';
const SAMPLE_MS = 60_000;
const MAX_WINDOWS = 10_000;

interface MetricDef {
  valueType: 'INT64' | 'DISTRIBUTION';
  unit: string;
  /** What one served request adds: a count, or a latency sample. */
  sample: (e: PredictionEntry) => number;
}

const METRICS: Record<string, MetricDef> = {
  [`${PREFIX}prediction_count`]: { valueType: 'INT64', unit: '1', sample: () => 1 },
  [`${PREFIX}error_count`]: { valueType: 'INT64', unit: '1', sample: (e) => (e.errorCode ? 1 : 0) },
  [`${PREFIX}prediction_latencies`]: { valueType: 'DISTRIBUTION', unit: 'ms', sample: (e) => e.latencyMs },
};

const PERCENTILES: Record<string, number> = {
  ALIGN_PERCENTILE_50: 0.5,
  ALIGN_PERCENTILE_95: 0.95,
  ALIGN_PERCENTILE_99: 0.99,
};
const ALIGNERS = new Set(['ALIGN_NONE', 'ALIGN_DELTA', 'ALIGN_SUM', 'ALIGN_RATE', ...Object.keys(PERCENTILES)]);

interface Duration {
  seconds?: string | number;
  nanos?: number;
}

interface ListTimeSeriesRequest {
  name?: string;
  filter?: string;
  interval?: { startTime?: Duration; endTime?: Duration };
  aggregation?: {
    alignmentPeriod?: Duration;
    perSeriesAligner?: string;
    crossSeriesReducer?: string;
    groupByFields?: string[];
  };
  view?: string;
  pageSize?: number;
  pageToken?: string;
}

/** A window of time and the samples that fell in it. */
interface Window {
  start: number;
  end: number;
  samples: number[];
  /** REDUCE_SUM of percentile-aligned series: the sum of each series' percentile, as Monitoring reduces. */
  summedPercentiles?: number;
}

interface Series {
  resourceLabels: Record<string, string>;
  metricLabels: Record<string, string>;
  windows: Window[];
}

type TypedValue = { int64Value: string } | { doubleValue: number } | { distributionValue: Record<string, unknown> };

const badRequest = (message: string) => new RpcError(status.INVALID_ARGUMENT, message);

function durationMs(d: Duration | undefined): number {
  return Number(d?.seconds ?? 0) * 1000 + Math.floor((d?.nanos ?? 0) / 1_000_000);
}

/** Nearest-rank percentile of the exact samples (Monitoring interpolates within buckets). */
function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? 0;
}

const BUCKETS = { numFiniteBuckets: 20, growthFactor: 2, scale: 1 };

function distribution(samples: number[]): Record<string, unknown> {
  const count = samples.length;
  const mean = count ? samples.reduce((s, x) => s + x, 0) / count : 0;
  const counts = new Array<number>(BUCKETS.numFiniteBuckets + 2).fill(0);
  for (const x of samples) {
    const i = x < BUCKETS.scale ? 0 : Math.floor(Math.log(x / BUCKETS.scale) / Math.log(BUCKETS.growthFactor)) + 1;
    counts[Math.min(i, BUCKETS.numFiniteBuckets + 1)]!++;
  }
  return {
    count: String(count),
    mean,
    sumOfSquaredDeviation: samples.reduce((s, x) => s + (x - mean) ** 2, 0),
    range: count ? { min: Math.min(...samples), max: Math.max(...samples) } : undefined,
    bucketOptions: { exponentialBuckets: BUCKETS },
    bucketCounts: counts.map(String),
  };
}

export class MonitoringService {
  constructor(private readonly store: Store) {}

  listTimeSeries(req: ListTimeSeriesRequest) {
    const project = /^projects\/([^/]+)$/.exec(req.name ?? '')?.[1];
    if (!project)
      throw badRequest(`Field name had an invalid value of "${req.name ?? ''}": must be projects/{project}.`);
    const filter = parseSeriesFilter(req.filter);
    const end = fromTimestamp(req.interval?.endTime);
    if (end === undefined) throw badRequest('Field interval.endTime is required.');
    const start = fromTimestamp(req.interval?.startTime) ?? end;
    if (start > end) throw badRequest('Field interval.startTime must not be after interval.endTime.');
    const metric = METRICS[filter.metricType];
    const aligner = req.aggregation?.perSeriesAligner ?? 'ALIGN_NONE';
    const reducer = req.aggregation?.crossSeriesReducer ?? 'REDUCE_NONE';
    this.checkAggregation(req, aligner, reducer, metric);
    if (!metric || (filter.resourceType && filter.resourceType !== RESOURCE_TYPE))
      return { timeSeries: [], nextPageToken: '', unit: '' };

    const entries = this.store.predictions.filter((e) => {
      const t = Date.parse(e.time);
      return t > start && t <= end && sameProject(e.project, project) && this.matches(e, project, filter);
    });
    const period = durationMs(req.aggregation?.alignmentPeriod);
    let series = this.group(entries, project, metric, aligner === 'ALIGN_NONE' ? undefined : { start, end, period });
    if (reducer === 'REDUCE_SUM')
      series = this.reduce(series, req.aggregation?.groupByFields ?? [], PERCENTILES[aligner]);
    const headersOnly = req.view === 'HEADERS';
    const rendered = series.map((s) => ({
      metric: { type: filter.metricType, labels: s.metricLabels },
      resource: { type: RESOURCE_TYPE, labels: s.resourceLabels },
      ...this.kindOf(metric, aligner),
      unit: aligner in PERCENTILES ? metric.unit : aligner === 'ALIGN_RATE' ? `${metric.unit}/s` : metric.unit,
      points: headersOnly
        ? []
        : s.windows
            .filter((w) => w.samples.length)
            .sort((a, b) => b.end - a.end)
            .map((w) => ({
              interval: { startTime: toTimestamp(w.start), endTime: toTimestamp(w.end) },
              value: this.valueOf(metric, aligner, w, period),
            })),
    }));
    const page = paginate(rendered, { filter: req.filter, pageSize: req.pageSize, pageToken: req.pageToken });
    return { timeSeries: page.items, nextPageToken: page.nextPageToken, unit: metric.unit };
  }

  private checkAggregation(req: ListTimeSeriesRequest, aligner: string, reducer: string, metric?: MetricDef): void {
    if (!ALIGNERS.has(aligner))
      throw badRequest(`The emulator does not support perSeriesAligner ${aligner} (${[...ALIGNERS].join(', ')}).`);
    if (reducer !== 'REDUCE_NONE' && reducer !== 'REDUCE_SUM')
      throw badRequest(`The emulator does not support crossSeriesReducer ${reducer} (REDUCE_NONE, REDUCE_SUM).`);
    if (reducer !== 'REDUCE_NONE' && aligner === 'ALIGN_NONE')
      throw badRequest('A crossSeriesReducer needs a perSeriesAligner other than ALIGN_NONE.');
    if (aligner !== 'ALIGN_NONE' && durationMs(req.aggregation?.alignmentPeriod) <= 0)
      throw badRequest('Field aggregation.alignmentPeriod is required with a perSeriesAligner.');
    if (metric?.valueType === 'DISTRIBUTION' && aligner === 'ALIGN_RATE')
      throw badRequest('ALIGN_RATE does not apply to a DISTRIBUTION metric.');
    if (metric?.valueType === 'INT64' && aligner in PERCENTILES)
      throw badRequest(`${aligner} applies only to DISTRIBUTION metrics.`);
  }

  private matches(e: PredictionEntry, project: string, f: SeriesFilter): boolean {
    const labels = this.resourceLabels(e, project);
    return (
      Object.entries(f.resourceLabels).every(([k, v]) =>
        k === 'resource_container' ? sameProject(v, e.project) : labels[k as keyof typeof labels] === v,
      ) && Object.entries(f.metricLabels).every(([k, v]) => k === 'deployed_model_id' && e.deployedModelId === v)
    );
  }

  private resourceLabels(e: PredictionEntry, project: string) {
    const container = this.store.state.settings.projectNumbers ? projectNumberOf(project) : project;
    return { resource_container: container, location: e.region, endpoint_id: e.endpointId };
  }

  /** One series per endpoint and deployed model; its samples in 60 s windows, or in the aligner's periods. */
  private group(
    entries: PredictionEntry[],
    project: string,
    metric: MetricDef,
    aligned?: { start: number; end: number; period: number },
  ): Series[] {
    const byKey = new Map<string, Series>();
    for (const e of entries) {
      const key = `${e.region}/${e.endpointId}/${e.deployedModelId}`;
      let s = byKey.get(key);
      if (!s) {
        s = {
          resourceLabels: this.resourceLabels(e, project),
          metricLabels: { deployed_model_id: e.deployedModelId },
          windows: [],
        };
        byKey.set(key, s);
      }
      const t = Date.parse(e.time);
      const window = aligned
        ? this.alignedWindow(t, aligned.end, aligned.period)
        : { start: t - (t % SAMPLE_MS), end: t - (t % SAMPLE_MS) + SAMPLE_MS };
      if (!window) continue;
      let w = s.windows.find((x) => x.end === window.end);
      if (!w) s.windows.push((w = { ...window, samples: [] }));
      w.samples.push(metric.sample(e));
    }
    return [...byKey.values()];
  }

  /** The period (end - (k+1)·period, end - k·period] that holds t. */
  private alignedWindow(t: number, end: number, period: number): { start: number; end: number } | undefined {
    const k = Math.floor((end - t) / period);
    if (k >= MAX_WINDOWS) return undefined;
    return { start: end - (k + 1) * period, end: end - k * period };
  }

  /** REDUCE_SUM: series with the same groupByFields labels become one, their periods' samples combined. */
  private reduce(series: Series[], groupBy: string[], p: number | undefined): Series[] {
    const out = new Map<string, Series>();
    for (const s of series) {
      const resourceLabels: Record<string, string> = {};
      const metricLabels: Record<string, string> = {};
      for (const field of groupBy) {
        const m = /^(resource|metric)\.labels?\.([a-z_]+)$/.exec(field);
        if (!m) throw badRequest(`The emulator does not support groupByFields "${field}".`);
        const from = m[1] === 'resource' ? s.resourceLabels : s.metricLabels;
        const to = m[1] === 'resource' ? resourceLabels : metricLabels;
        if (from[m[2]!] !== undefined) to[m[2]!] = from[m[2]!]!;
      }
      const key = JSON.stringify([resourceLabels, metricLabels]);
      let r = out.get(key);
      if (!r) out.set(key, (r = { resourceLabels, metricLabels, windows: [] }));
      for (const w of s.windows) {
        let same = r.windows.find((x) => x.end === w.end);
        if (!same) r.windows.push((same = { start: w.start, end: w.end, samples: [] }));
        same.samples.push(...w.samples);
        if (p !== undefined) same.summedPercentiles = (same.summedPercentiles ?? 0) + percentile(w.samples, p);
      }
    }
    return [...out.values()];
  }

  private kindOf(metric: MetricDef, aligner: string): { metricKind: string; valueType: string } {
    if (aligner === 'ALIGN_RATE' || aligner in PERCENTILES) return { metricKind: 'GAUGE', valueType: 'DOUBLE' };
    return { metricKind: 'DELTA', valueType: metric.valueType };
  }

  private valueOf(metric: MetricDef, aligner: string, w: Window, period: number): TypedValue {
    if (aligner in PERCENTILES)
      return { doubleValue: w.summedPercentiles ?? percentile(w.samples, PERCENTILES[aligner]!) };
    if (metric.valueType === 'DISTRIBUTION') return { distributionValue: distribution(w.samples) };
    const sum = w.samples.reduce((s, x) => s + x, 0);
    if (aligner === 'ALIGN_RATE') return { doubleValue: sum / (period / 1000) };
    return { int64Value: String(sum) };
  }
}
