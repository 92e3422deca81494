import { Storage } from '@google-cloud/storage';
import type { GcpEnv } from '../config/env';

/**
 * The real Storage client. Against fake-gcs-server only the endpoint changes (apiEndpoint is
 * preferred to STORAGE_EMULATOR_HOST: it is explicit and per client) and no credentials are sent.
 */
export function createStorage(env: GcpEnv): Storage {
  if (env.GCS_API_ENDPOINT) {
    return new Storage({
      apiEndpoint: env.GCS_API_ENDPOINT,
      projectId: env.GOOGLE_CLOUD_PROJECT ?? 'ct-local',
      useAuthWithCustomEndpoint: false,
    });
  }
  return new Storage({ projectId: env.GOOGLE_CLOUD_PROJECT });
}
