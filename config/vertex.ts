import * as grpc from '@grpc/grpc-js';
import type { MetricMeter } from '@temporalio/common';
import { countVertexCalls } from '../observability/vertex-calls';
import { JobServiceClient, ModelServiceClient, PipelineServiceClient } from './aiplatform';
import type { GcpEnv } from './env';

export interface VertexClients {
  pipelines: PipelineServiceClient;
  jobs: JobServiceClient;
  models: ModelServiceClient;
}
export type VertexClientFactory = (region: string) => VertexClients;

/** The coalesced watch's knobs (activities/vertex/region-watch.ts). */
export interface RegionWatchSettings {
  /** Between two listings while any job is watched: the detection lag's bound. */
  intervalMs: number;
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
  env: Pick<GcpEnv, 'CT_VERTEX_WATCH' | 'CT_VERTEX_WATCH_INTERVAL_MS' | 'CT_VERTEX_LIST_PAGE_SIZE'>,
): RegionWatchSettings | undefined {
  if (env.CT_VERTEX_WATCH !== 'coalesced') return undefined;
  return {
    intervalMs: env.CT_VERTEX_WATCH_INTERVAL_MS,
    pageSize: env.CT_VERTEX_LIST_PAGE_SIZE,
    // activities/training/resolve.ts and activities/prediction/plan.ts label every job with it.
    labelKey: 'ct-pipeline',
    maxBackoffMs: 120_000,
    twinWindowMs: 120_000,
  };
}

/**
 * Real @google-cloud/aiplatform clients per region (Vertex endpoints are regional). With
 * VERTEX_API_ENDPOINT (the emulator) every region goes to that host:port without TLS or auth.
 */
export function createVertexClientFactory(
  env: Pick<GcpEnv, 'VERTEX_API_ENDPOINT'>,
  /** The worker's meter: every RPC is counted by method and status code (ct_vertex_calls). */
  meter?: MetricMeter,
): VertexClientFactory & { close(): Promise<void> } {
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
      const count = <C extends object>(c: C): C => (meter ? countVertexCalls(c, meter) : c);
      clients = {
        pipelines: count(new PipelineServiceClient(opts)),
        jobs: count(new JobServiceClient(opts)),
        models: count(new ModelServiceClient(opts)),
      };
      cache.set(key, clients);
    }
    return clients;
  };
  return Object.assign(factory, {
    async close() {
      await Promise.all([...cache.values()].flatMap((c) => [c.pipelines.close(), c.jobs.close(), c.models.close()]));
      cache.clear();
    },
  });
}
