import * as grpc from '@grpc/grpc-js';
import { MetricServiceClient } from '@google-cloud/monitoring/build/src/v3/metric_service_client';
import type { GcpEnv } from '../config/env';

// Google's own Cloud Monitoring client, for reading the health Vertex exports per deployed model.
// Imported from its module, not the package index, which loads every Monitoring client (as
// infra/vertex/aiplatform.ts does for Vertex's).
export { MetricServiceClient };

/**
 * The real monitoring.googleapis.com, or with MONITORING_API_ENDPOINT (the Vertex AI emulator serves
 * Monitoring on its gRPC port) that host:port without TLS or auth.
 */
export function createMonitoringClient(env: Pick<GcpEnv, 'MONITORING_API_ENDPOINT'>): MetricServiceClient {
  if (!env.MONITORING_API_ENDPOINT) return new MetricServiceClient();
  const [host, port] = env.MONITORING_API_ENDPOINT.split(':');
  return new MetricServiceClient({
    apiEndpoint: host,
    port: Number(port),
    sslCreds: grpc.credentials.createInsecure(),
  });
}
