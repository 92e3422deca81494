import type { TemporalEnv } from './env';

export interface TemporalConnectionOptions {
  address: string;
  tls: boolean;
  apiKey?: string;
}

/**
 * Options accepted by both Connection (clients) and NativeConnection (workers). An API key
 * implies TLS, as Temporal Cloud requires.
 */
export function temporalConnectionOptions(env: TemporalEnv): TemporalConnectionOptions {
  return {
    address: env.TEMPORAL_ADDRESS,
    tls: env.TEMPORAL_TLS ?? Boolean(env.TEMPORAL_API_KEY),
    apiKey: env.TEMPORAL_API_KEY,
  };
}
