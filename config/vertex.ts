import * as grpc from '@grpc/grpc-js';
import { JobServiceClient, ModelServiceClient, PipelineServiceClient } from './aiplatform';
import type { GcpEnv } from './env';

export interface VertexClients {
  pipelines: PipelineServiceClient;
  jobs: JobServiceClient;
  models: ModelServiceClient;
}
export type VertexClientFactory = (region: string) => VertexClients;

/**
 * Real @google-cloud/aiplatform clients per region (Vertex endpoints are regional). With
 * VERTEX_API_ENDPOINT (the emulator) every region goes to that host:port without TLS or auth.
 */
export function createVertexClientFactory(
  env: Pick<GcpEnv, 'VERTEX_API_ENDPOINT'>,
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
      clients = {
        pipelines: new PipelineServiceClient(opts),
        jobs: new JobServiceClient(opts),
        models: new ModelServiceClient(opts),
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
