// The Vertex AI emulator as a process: gRPC (the Vertex v1 API) in plaintext and over TLS, and the
// control API (which also serves the OAuth2 token endpoint and the CONNECT proxy), backed by
// fake-gcs-server (or any GCS endpoint) for the outputs jobs write.
import path from 'node:path';
import { Storage } from '@google-cloud/storage';
import { z } from 'zod';
import { startControlApi } from './control-api';
import { startEmulator } from './grpc-server';
import { ensureTlsMaterial } from './tls';

const Env = z.object({
  VERTEX_EMULATOR_HOST: z.string().default('127.0.0.1'),
  VERTEX_EMULATOR_PORT: z.coerce.number().int().min(0).max(65_535).default(8590),
  VERTEX_EMULATOR_CONTROL_PORT: z.coerce.number().int().min(0).max(65_535).default(8591),
  VERTEX_EMULATOR_TLS: z.stringbool().default(true),
  VERTEX_EMULATOR_TLS_PORT: z.coerce.number().int().min(0).max(65_535).default(8592),
  /** Where the local CA and the server certificate are kept (made on first start, then reused). */
  VERTEX_EMULATOR_TLS_DIR: z.string().default('.data/vertex-ai/tls'),
  /** JSON file that keeps jobs and models across restarts; in memory when unset. */
  VERTEX_EMULATOR_STATE_FILE: z.string().optional(),
  VERTEX_EMULATOR_PROJECT_NUMBERS: z.stringbool().optional(),
  GCS_API_ENDPOINT: z.url(),
  GOOGLE_CLOUD_PROJECT: z.string().default('ct-local'),
});

async function main(): Promise<void> {
  const parsed = Env.safeParse(Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== '')));
  if (!parsed.success) throw new Error(`invalid environment:\n${z.prettifyError(parsed.error)}`);
  const env = parsed.data;
  const t0 = performance.now();
  const storage = new Storage({
    apiEndpoint: env.GCS_API_ENDPOINT,
    projectId: env.GOOGLE_CLOUD_PROJECT,
    useAuthWithCustomEndpoint: false,
  });
  const tls = env.VERTEX_EMULATOR_TLS
    ? {
        port: env.VERTEX_EMULATOR_TLS_PORT,
        material: await ensureTlsMaterial(path.resolve(env.VERTEX_EMULATOR_TLS_DIR)),
      }
    : undefined;
  const emulator = await startEmulator({
    host: env.VERTEX_EMULATOR_HOST,
    port: env.VERTEX_EMULATOR_PORT,
    storage,
    stateFile: env.VERTEX_EMULATOR_STATE_FILE && path.resolve(env.VERTEX_EMULATOR_STATE_FILE),
    tls,
  });
  if (env.VERTEX_EMULATOR_PROJECT_NUMBERS !== undefined)
    emulator.store.state.settings.projectNumbers = env.VERTEX_EMULATOR_PROJECT_NUMBERS;
  const control = await startControlApi({
    host: env.VERTEX_EMULATOR_HOST,
    port: env.VERTEX_EMULATOR_CONTROL_PORT,
    store: emulator.store,
    engine: emulator.engine,
    policy: emulator.policy,
    grpcPort: emulator.port,
    tlsPort: emulator.tlsPort,
    tokens: emulator.tokens,
    methods: emulator.methods,
  });
  const controlPort = (control.address() as { port: number }).port;
  const tlsNote = tls ? `, TLS ${env.VERTEX_EMULATOR_HOST}:${emulator.tlsPort} (CA ${tls.material.caCertPath})` : '';
  console.log(
    `vertex-ai emulator: gRPC ${env.VERTEX_EMULATOR_HOST}:${emulator.port}${tlsNote}, control http://${env.VERTEX_EMULATOR_HOST}:${controlPort} (ready in ${Math.round(performance.now() - t0)} ms)`,
  );
  const shutdown = () => {
    control.close();
    void emulator.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error(`vertex-ai emulator: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
