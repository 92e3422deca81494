import type { MetricServiceClient } from '@google-cloud/monitoring';
import { ApplicationFailure } from '@temporalio/common';
import { VERTEX_UNAVAILABLE, type HealthFigures } from '../../contracts';
import { grpcCode } from '../vertex/errors';

// Health from where Vertex puts it: the endpoint's Cloud Monitoring series per deployed model
// (prediction and error counts, prediction latency), over the step's window so far. A read that
// fails is an error, never an empty (healthy-looking) answer: the workflow decides what it means.

const METRIC = 'aiplatform.googleapis.com/prediction/online';

type Series = { points?: { value?: { int64Value?: unknown; doubleValue?: number | null } | null }[] | null }[];

export interface HealthRequest {
  project: string;
  endpoint: string;
  candidate: string;
  /** The deployed models the candidate is judged against (those that served before it). */
  previous: string[];
  sinceMs: number;
}

export function createHealthActivity(deps: { monitoring: MetricServiceClient }) {
  async function read(req: HealthRequest, metric: string, deployedModelId: string, aligner: string) {
    const endpointId = req.endpoint.split('/').pop()!;
    const now = Date.now();
    const seconds = Math.max(1, Math.ceil((now - req.sinceMs) / 1000));
    try {
      const [series] = await deps.monitoring.listTimeSeries({
        name: `projects/${req.project}`,
        filter: `metric.type = "${METRIC}/${metric}" AND resource.labels.endpoint_id = "${endpointId}" AND metric.labels.deployed_model_id = "${deployedModelId}"`,
        interval: {
          startTime: { seconds: Math.floor(req.sinceMs / 1000) },
          endTime: { seconds: Math.ceil(now / 1000) },
        },
        aggregation: { alignmentPeriod: { seconds }, perSeriesAligner: aligner as never },
        view: 'FULL',
      });
      return (series as Series).flatMap((s) => s.points ?? []).map((p) => p.value ?? {});
    } catch (err) {
      throw ApplicationFailure.create({
        type: VERTEX_UNAVAILABLE,
        message: `reading ${metric} of ${deployedModelId} from Cloud Monitoring: ${(err as Error).message}`,
        nonRetryable: grpcCode(err) === 3 || grpcCode(err) === 7,
      });
    }
  }

  async function figures(req: HealthRequest, deployedModelId: string) {
    const sum = (values: { int64Value?: unknown }[]) => values.reduce((n, v) => n + Number(v.int64Value ?? 0), 0);
    const [predictions, errors, latency] = await Promise.all([
      read(req, 'prediction_count', deployedModelId, 'ALIGN_SUM').then(sum),
      read(req, 'error_count', deployedModelId, 'ALIGN_SUM').then(sum),
      read(req, 'prediction_latencies', deployedModelId, 'ALIGN_PERCENTILE_95'),
    ]);
    const p95 = latency.map((v) => v.doubleValue).filter((v): v is number => typeof v === 'number');
    return { predictions, errors, p95LatencyMs: p95.length ? Math.max(...p95) : null };
  }

  return async function readHealth(req: HealthRequest): Promise<HealthFigures> {
    const candidate = await figures(req, req.candidate);
    if (!req.previous.length) return { at: new Date().toISOString(), candidate };
    const all = await Promise.all(req.previous.map((id) => figures(req, id)));
    const previous = {
      predictions: all.reduce((n, f) => n + f.predictions, 0),
      errors: all.reduce((n, f) => n + f.errors, 0),
      p95LatencyMs: all.some((f) => f.p95LatencyMs !== null) ? Math.max(...all.map((f) => f.p95LatencyMs ?? 0)) : null,
    };
    return { at: new Date().toISOString(), candidate, previous };
  };
}
