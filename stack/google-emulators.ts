import path from 'node:path';
import type { LocalStackEnv } from '../config/env';
import type { PipelineConfig } from '../config/pipeline-config';
import { ensureBuckets, startFakeGcs, type FakeGcs } from './gcs-server';
import type { ServiceOptions } from './process';
import { seedFromConfig } from './seed';
import { startVertexEmulator, type VertexEmulator } from './vertex-emulator';

// What stands in for Google Cloud in both local stacks (`npm run dev`, `npm run stack:prod`):
// fake-gcs-server seeded from the config, and the Vertex AI emulator on top of it.

export interface GoogleEmulators {
  gcs: FakeGcs;
  vertex: VertexEmulator;
  /** Every bucket that exists: GCS_BUCKETS and those the config names. */
  buckets: string[];
  /** The variables that point a worker at them. */
  workerEnv: NodeJS.ProcessEnv;
}

export async function startGoogleEmulators(o: {
  fakeGcsServer: string;
  env: LocalStackEnv;
  config: PipelineConfig;
  dataDir: string;
  logDir: string;
  onSpawn: ServiceOptions['onSpawn'];
}): Promise<GoogleEmulators> {
  const { env } = o;
  const gcs = await startFakeGcs({
    binary: o.fakeGcsServer,
    port: env.FAKE_GCS_PORT,
    root: path.join(o.dataDir, 'gcs'),
    logFile: path.join(o.logDir, 'fake-gcs-server.log'),
    detached: true,
    onSpawn: o.onSpawn,
  });
  await ensureBuckets(gcs.endpoint, env.GOOGLE_CLOUD_PROJECT, env.GCS_BUCKETS);
  const seeded = await seedFromConfig(gcs.endpoint, env.GOOGLE_CLOUD_PROJECT, o.config);
  const vertex = await startVertexEmulator({
    port: env.VERTEX_EMULATOR_PORT,
    controlPort: env.VERTEX_EMULATOR_CONTROL_PORT,
    gcsEndpoint: gcs.endpoint,
    projectId: env.GOOGLE_CLOUD_PROJECT,
    stateFile: path.join(o.dataDir, 'vertex-ai', 'state.json'),
    tls: { port: env.VERTEX_EMULATOR_TLS_PORT, dir: path.join(o.dataDir, 'vertex-ai', 'tls') },
    logFile: path.join(o.logDir, 'vertex-ai-emulator.log'),
    detached: true,
    onSpawn: o.onSpawn,
  });
  return {
    gcs,
    vertex,
    buckets: [...env.GCS_BUCKETS, ...seeded.buckets],
    workerEnv: {
      GCS_API_ENDPOINT: gcs.endpoint,
      GOOGLE_CLOUD_PROJECT: env.GOOGLE_CLOUD_PROJECT,
      VERTEX_API_ENDPOINT: `${vertex.host}:${vertex.port}`,
      // The emulator serves Cloud Monitoring (the endpoints' prediction metrics) on the same port.
      MONITORING_API_ENDPOINT: `${vertex.host}:${vertex.port}`,
      METADATA_SERVER_DETECTION: 'none',
    },
  };
}

/** The banner lines both stacks print for the emulators. */
export function emulatorBanner(e: GoogleEmulators): string {
  const t = e.vertex.tls!;
  return `  fake-gcs-server     ${e.gcs.endpoint}  (buckets: ${e.buckets.join(', ')})
  Vertex AI emulator  ${e.vertex.host}:${e.vertex.port} (gRPC), control API ${e.vertex.controlUrl}
                      TLS ${e.vertex.host}:${t.port}, CA ${t.caCertPath}
                      token_uri ${t.tokenUri}, grpc_proxy ${e.vertex.controlUrl}  (docs/vertex-emulator.md: "Google's own clients")`;
}

/** The example commands both banners print (README: "The example training run"). */
export function exampleCommands(ctPrefix: string): string {
  return `Start an example training run (Airflow would send these data-ready calls):
  ${ctPrefix}npm run ct -- data-ready --env staging --dataset instagram_posts --partition 2026-11-21
  ${ctPrefix}npm run ct -- data-ready --env staging --dataset user_profiles --partition 2026-11-21
Then predict with the new champions, and put the config's schedules into Temporal:
  ${ctPrefix}npm run ct -- predict --pipeline sns-engagement --env staging --partition 2026-11-21 --segment jp-instagram --wait
  ${ctPrefix}npm run ct -- schedules sync --env staging`;
}
