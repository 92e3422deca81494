import { freePort } from '../../stack/process';

/**
 * Every port `npm run dev` opens, each a free one, as the environment variables that set them:
 * a test's stack never meets a developer's (defaults) or another test's.
 */
export async function devStackPorts() {
  return {
    TEMPORAL_PORT: await freePort(),
    TEMPORAL_UI_PORT: await freePort(),
    TEMPORAL_HTTP_PORT: await freePort(),
    TEMPORAL_METRICS_PORT: await freePort(),
    FAKE_GCS_PORT: await freePort(),
    VERTEX_EMULATOR_PORT: await freePort(),
    VERTEX_EMULATOR_CONTROL_PORT: await freePort(),
    VERTEX_EMULATOR_TLS_PORT: await freePort(),
    WORKER_METRICS_PORT: await freePort(),
  };
}
