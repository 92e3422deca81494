import type { Storage } from '@google-cloud/storage';
import type { Client } from '@temporalio/client';
import type { PipelineConfig } from '../../config/pipeline-config';
import type { FlagWatchSettings } from '../../infra/gcs';
import { createAwaitFlagsActivity, createReadFlagsActivity } from './await-flags';
import { createDeliverFlagsActivity } from './deliver-flags';

export interface FlagDeps {
  config: PipelineConfig;
  storage: Storage;
  temporal: Client;
  /** How the flag watch lists (infra/gcs.ts flagWatchSettings); the defaults when not given. */
  flagWatch?: FlagWatchSettings;
}

/** The flag watch's steps (workflows/flag-watch.ts): list until something is new (or read what a notification told), then deliver and report it. */
export function createFlagActivities(deps: FlagDeps) {
  return {
    awaitFlags: createAwaitFlagsActivity(deps),
    readFlags: createReadFlagsActivity(deps),
    deliverFlags: createDeliverFlagsActivity(deps),
  };
}
