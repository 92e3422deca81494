import { existsSync } from 'node:fs';
import { loadClientConfigProfile, toClientOptions } from '@temporalio/envconfig';
import { z } from 'zod';
import { InvalidEnvironment, type TemporalEnv } from './env';

type ClientOptions = ReturnType<typeof toClientOptions>['connectionOptions'];

export interface TemporalConnectionOptions {
  address: string;
  tls?: ClientOptions['tls'];
  apiKey?: string;
  metadata?: ClientOptions['metadata'];
}

// Where each profile field comes from, for errors: the variable and the TOML key.
const SOURCES: Record<string, string> = {
  address: "TEMPORAL_ADDRESS (or the profile's address)",
  apiKey: "TEMPORAL_API_KEY (or the profile's api_key)",
  'tls.clientCert': "TEMPORAL_TLS_CLIENT_CERT_PATH / _DATA (or the profile's tls.client_cert_path / client_cert_data)",
  'tls.clientKey': "TEMPORAL_TLS_CLIENT_KEY_PATH / _DATA (or the profile's tls.client_key_path / client_key_data)",
  'tls.serverCACert':
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH / _DATA (or the profile's tls.server_ca_cert_path / server_ca_cert_data)",
  'tls.serverName': "TEMPORAL_TLS_SERVER_NAME (or the profile's tls.server_name)",
};

const Source = z.union([
  z.strictObject({ path: z.string().min(1).refine(existsSync, 'names no file') }),
  z.strictObject({ data: z.union([z.string().min(1), z.instanceof(Uint8Array)]) }),
]);

/** The merged profile (TOML file, then TEMPORAL_* variables over it), as envconfig resolves it. */
const Profile = z.object({
  address: z
    .string()
    .regex(/^[^\s/]+:[0-9]{1,5}$/, 'must be host:port')
    .optional(),
  namespace: z.string().min(1).optional(),
  apiKey: z.string().min(1).optional(),
  tls: z
    .object({
      disabled: z.boolean().optional(),
      serverName: z.string().min(1).optional(),
      clientCert: Source.optional(),
      clientKey: Source.optional(),
      serverCACert: Source.optional(),
    })
    // envconfig drops a certificate without its key (or a key without its certificate) silently:
    // the server would then refuse the connection for want of a client certificate.
    .refine((t) => !t.clientCert === !t.clientKey, {
      message: 'a client certificate and its key go together: give both or neither',
      path: ['clientKey'],
    })
    .optional(),
  grpcMeta: z.record(z.string(), z.string()).optional(),
});

function parseProfile(raw: unknown) {
  const result = Profile.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const key = i.path.filter((p) => p !== 'path' && p !== 'data').join('.');
      return `  ${SOURCES[key] ?? key}: ${i.message}`;
    });
    throw new InvalidEnvironment(`invalid Temporal connection settings:\n${lines.join('\n')}`);
  }
  return result.data;
}

/**
 * How the worker and `ct` connect: the way the Temporal CLI does. A profile from the envconfig
 * TOML file (TEMPORAL_CONFIG_FILE or ~/.config/temporalio/temporal.toml, TEMPORAL_PROFILE picks
 * one) with the TEMPORAL_* variables over it (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH …), parsed once here, so Temporal
 * Cloud (mTLS or an API key) works unchanged. An API key implies TLS, as Temporal Cloud requires.
 * Options fit both Connection (clients) and NativeConnection (workers).
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
  let raw;
  try {
    // Empty variables count as unset, as a shell's `FOO=` means (envconfig would take '' as a value).
    const set = Object.fromEntries(Object.entries(runtimeEnv).filter(([, v]) => v !== undefined && v !== '')) as Record<
      string,
      string
    >;
    raw = loadClientConfigProfile({ profile: set.TEMPORAL_PROFILE, overrideEnvVars: set });
  } catch (err) {
    throw new InvalidEnvironment(`Temporal connection profile: ${err instanceof Error ? err.message : String(err)}`);
  }
  const profile = parseProfile(raw);
  const c = toClientOptions(profile).connectionOptions;
  const apiKey = typeof c.apiKey === 'string' ? c.apiKey : env.TEMPORAL_API_KEY;
  const envTls = env.TEMPORAL_TLS === undefined ? undefined : env.TEMPORAL_TLS === 'true' || env.TEMPORAL_TLS === '1';
  return {
    options: {
      address: c.address ?? env.TEMPORAL_ADDRESS,
      tls: c.tls ?? envTls ?? Boolean(apiKey),
      apiKey,
      ...(c.metadata ? { metadata: c.metadata } : {}),
    },
    namespace: profile.namespace ?? env.TEMPORAL_NAMESPACE,
    explicitNamespace: profile.namespace,
  };
}
