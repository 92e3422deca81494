import * as grpc from '@grpc/grpc-js';
import type { MetricMeter } from '@temporalio/common';
import { budgetMetrics, countVertexCalls } from './call-metrics';
import {
  EndpointServiceClient,
  JobServiceClient,
  ModelServiceClient,
  PipelineServiceClient,
  PredictionServiceClient,
} from './aiplatform';
import { vertexBudgetDefaults, type GcpEnv } from '../../config/env';
import { VertexBudget } from './budget';
import { budgetVertexCalls } from './budget-calls';

export interface VertexClients {
  pipelines: PipelineServiceClient;
  jobs: JobServiceClient;
  models: ModelServiceClient;
  endpoints: EndpointServiceClient;
  /** Predict has a quota of its own (online prediction): it passes the budget untaken (budget-calls.ts). */
  predictions: PredictionServiceClient;
}
export type VertexClientFactory = (region: string) => VertexClients;

/** The coalesced watch's knobs (activities/vertex/region-watch.ts, its pace in watch-pace.ts). */
export interface RegionWatchSettings {
  /**
   * With `readShare` 0, between two listings while any job is watched; with a share, the longest
   * other callers' reads can stretch that to (the share's own interval and 429s' backoff may be longer).
   */
  intervalMs: number;
  /** The fraction of `readsPerMinute` the watch's listings spend in a project and region; 0: a fixed interval. */
  readShare: number;
  /** The read budget of a project and region (CT_VERTEX_READS_PER_MINUTE) the share is of. */
  readsPerMinute: number;
  /** Never two listings closer than this, however much the share allows. */
  floorMs: number;
  pageSize: number;
  /** A label every job this project creates carries (its presence selects the project's jobs). */
  labelKey: string;
  /** After a failed listing (429, 503) the next waits this much longer, doubling, up to this cap. */
  maxBackoffMs: number;
  /** The listing starts this long before the oldest watched job's create (see region-watch.ts). */
  twinWindowMs: number;
}

/** Undefined for the per-job watch. */
export function vertexWatchSettings(
  env: Pick<
    GcpEnv,
    | 'CT_VERTEX_WATCH'
    | 'CT_VERTEX_WATCH_INTERVAL_MS'
    | 'CT_VERTEX_WATCH_READ_SHARE'
    | 'CT_VERTEX_WATCH_FLOOR_MS'
    | 'CT_VERTEX_LIST_PAGE_SIZE'
    | 'CT_VERTEX_READS_PER_MINUTE'
    | 'CT_VERTEX_LATE_CREATE_WINDOW_MS'
  >,
): RegionWatchSettings | undefined {
  if (env.CT_VERTEX_WATCH !== 'coalesced') return undefined;
  return {
    intervalMs: env.CT_VERTEX_WATCH_INTERVAL_MS,
    readShare: env.CT_VERTEX_WATCH_READ_SHARE,
    readsPerMinute: env.CT_VERTEX_READS_PER_MINUTE,
    floorMs: env.CT_VERTEX_WATCH_FLOOR_MS,
    pageSize: env.CT_VERTEX_LIST_PAGE_SIZE,
    // activities/training/resolve.ts and activities/prediction/plan.ts label every job with it.
    labelKey: 'ct-pipeline',
    maxBackoffMs: 120_000,
    twinWindowMs: env.CT_VERTEX_LATE_CREATE_WINDOW_MS,
  };
}

type BudgetEnv = Pick<
  GcpEnv,
  'CT_VERTEX_READS_PER_MINUTE' | 'CT_VERTEX_CREATES_PER_MINUTE' | 'CT_VERTEX_BUDGET_MAX_WAIT_MS'
>;

/**
 * Real @google-cloud/aiplatform clients per region (Vertex endpoints are regional). With
 * VERTEX_API_ENDPOINT (the emulator) every region goes to that host:port without TLS or auth.
 * Every RPC of every client takes from one budget per project and region (infra/vertex/budget.ts):
 * the factory is the worker's, so the budget is too; unset budget variables take their defaults.
 */
export function createVertexClientFactory(
  env: Pick<GcpEnv, 'VERTEX_API_ENDPOINT'> & Partial<BudgetEnv>,
  /** The worker's meter: every RPC is counted by method and status code (ct_vertex_calls). */
  meter?: MetricMeter,
): VertexClientFactory & { close(): Promise<void>; budget: VertexBudget } {
  const budget = new VertexBudget(
    {
      readsPerMinute: env.CT_VERTEX_READS_PER_MINUTE ?? vertexBudgetDefaults.readsPerMinute,
      createsPerMinute: env.CT_VERTEX_CREATES_PER_MINUTE ?? vertexBudgetDefaults.createsPerMinute,
      maxWaitMs: env.CT_VERTEX_BUDGET_MAX_WAIT_MS ?? vertexBudgetDefaults.maxWaitMs,
    },
    meter && budgetMetrics(meter),
  );
  const cache = new Map<string, VertexClients>();
  const factory = (region: string): VertexClients => {
    const key = env.VERTEX_API_ENDPOINT ?? region;
    let clients = cache.get(key);
    if (!clients) {
      let opts: ConstructorParameters<typeof PipelineServiceClient>[0];
      if (env.VERTEX_API_ENDPOINT) {
        const [host, port] = env.VERTEX_API_ENDPOINT.split(':');
        opts = { apiEndpoint: host, port: Number(port), sslCreds: grpc.credentials.createInsecure() };
      } else {
        opts = { apiEndpoint: `${region}-aiplatform.googleapis.com` };
      }
      // Counted inside the budget: ct_vertex_calls counts what reached Vertex, not the budget's waits and refusals.
      const wrap = <C extends object>(c: C): C => budgetVertexCalls(meter ? countVertexCalls(c, meter) : c, budget);
      clients = {
        pipelines: wrap(new PipelineServiceClient(opts)),
        jobs: wrap(new JobServiceClient(opts)),
        models: wrap(new ModelServiceClient(opts)),
        endpoints: wrap(new EndpointServiceClient(opts)),
        predictions: wrap(new PredictionServiceClient(opts)),
      };
      cache.set(key, clients);
    }
    return clients;
  };
  return Object.assign(factory, {
    budget,
    async close() {
      await Promise.all(
        [...cache.values()].flatMap((c) => [
          c.pipelines.close(),
          c.jobs.close(),
          c.models.close(),
          c.endpoints.close(),
          c.predictions.close(),
        ]),
      );
      cache.clear();
    },
  });
}
