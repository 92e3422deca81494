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

/** How the flag watch lists (activities/flags/await-flags.ts); see docs/triggers.md for the figures. */
export interface FlagWatchSettings {
  intervalMs: number;
  chunkMs: number;
  pageSize: number;
  matchGlob: boolean;
  /**
   * A listing's watermark trails its start by this much: a flag whose timeCreated (Cloud Storage's
   * clock) is that far behind the worker's clock is still seen. Flags inside it are listed again and
   * passed over by generation.
   */
  marginMs: number;
  /** At most this many flags go to the workflow at once; the rest are found by the next listing. */
  maxBatch: number;
}

export function flagWatchSettings(
  env: Pick<
    GcpEnv,
    | 'CT_FLAG_WATCH_INTERVAL_MS'
    | 'CT_FLAG_WATCH_CHUNK_MS'
    | 'CT_FLAG_LIST_PAGE_SIZE'
    | 'CT_FLAG_MATCH_GLOB'
    | 'CT_FLAG_WATCH_BATCH'
    | 'CT_FLAG_WATCH_MARGIN_MS'
  >,
): FlagWatchSettings {
  return {
    intervalMs: env.CT_FLAG_WATCH_INTERVAL_MS,
    chunkMs: env.CT_FLAG_WATCH_CHUNK_MS,
    pageSize: env.CT_FLAG_LIST_PAGE_SIZE,
    matchGlob: env.CT_FLAG_MATCH_GLOB === 'on',
    marginMs: env.CT_FLAG_WATCH_MARGIN_MS,
    maxBatch: env.CT_FLAG_WATCH_BATCH,
  };
}
