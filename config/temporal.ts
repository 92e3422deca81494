import { loadClientConnectConfig } from '@temporalio/envconfig';
import { InvalidEnvironment, type TemporalEnv } from './env';

export interface TemporalConnectionOptions {
  address: string;
  tls?: ReturnType<typeof loadClientConnectConfig>['connectionOptions']['tls'];
  apiKey?: string;
  metadata?: ReturnType<typeof loadClientConnectConfig>['connectionOptions']['metadata'];
}

/**
 * How the worker and `ct` connect: the way the Temporal CLI does. A profile from the envconfig
 * TOML file (TEMPORAL_CONFIG_FILE or ~/.config/temporalio/temporal.toml, TEMPORAL_PROFILE picks
 * one) with the TEMPORAL_* variables over it (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH …), so Temporal Cloud works
 * unchanged. An API key implies TLS, as Temporal Cloud requires. Options fit both Connection
 * (clients) and NativeConnection (workers).
 */
export function temporalConnectConfig(
  env: TemporalEnv,
  runtimeEnv: NodeJS.ProcessEnv = process.env,
): {
  options: TemporalConnectionOptions;
  namespace: string;
  /** The namespace a profile or TEMPORAL_NAMESPACE names; undefined when it is the default. */
  explicitNamespace?: string;
} {
  let loaded;
  try {
    loaded = loadClientConnectConfig({
      profile: runtimeEnv.TEMPORAL_PROFILE,
      overrideEnvVars: runtimeEnv as Record<string, string>,
    });
  } catch (err) {
    throw new InvalidEnvironment(`Temporal connection profile: ${err instanceof Error ? err.message : String(err)}`);
  }
  const c = loaded.connectionOptions;
  const apiKey = typeof c.apiKey === 'string' ? c.apiKey : env.TEMPORAL_API_KEY;
  return {
    options: {
      address: c.address ?? env.TEMPORAL_ADDRESS,
      tls: c.tls ?? env.TEMPORAL_TLS ?? Boolean(apiKey),
      apiKey,
      ...(c.metadata ? { metadata: c.metadata } : {}),
    },
    namespace: loaded.namespace ?? env.TEMPORAL_NAMESPACE,
    explicitNamespace: loaded.namespace,
  };
}

export class TemporalUnreachable extends Error {
  override name = 'TemporalUnreachable';
}

/**
 * Connects (Connection for clients, NativeConnection for workers) and, when the server cannot be
 * reached, says where it looked and how to point elsewhere: the SDK's own message ("Failed to
 * connect before the deadline", a tonic transport error) names neither.
 */
export async function connectTo<C>(
  options: TemporalConnectionOptions,
  connect: (o: TemporalConnectionOptions) => Promise<C>,
): Promise<C> {
  try {
    return await connect(options);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new TemporalUnreachable(
      `cannot reach Temporal at ${options.address}${options.tls ? ' (TLS)' : ''}: ${reason}. Is the server up? ` +
        'Point TEMPORAL_ADDRESS (or a TEMPORAL_PROFILE in the envconfig file) at it; `npm run dev` starts one on 127.0.0.1:7233.',
      { cause: err },
    );
  }
}
