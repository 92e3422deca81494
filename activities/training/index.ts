import type { Storage } from '@google-cloud/storage';
import type { Client } from '@temporalio/client';
import type { PipelineConfig } from '../../config/pipeline-config';
import type { Prices } from '../../config/prices';
import type { VertexClientFactory } from '../../infra/vertex/clients';
import { createAwaitActivity } from '../vertex/await-job';
import { progressOf } from '../vertex/progress';
import type { RegionWatches } from '../vertex/region-watch';
import { createDelegateActivity } from './delegate';
import { createFanoutPlanActivity } from './fanout-plan';
import { createResolveActivity } from './resolve';
import { createRouteActivity } from './route';
import { createVertexJobActivities } from './vertex-job';

export interface TrainingDeps {
  config: PipelineConfig;
  storage: Storage;
  vertex: VertexClientFactory;
  /** A client of the worker's own namespace (for handing a run over to its own workflow id). */
  temporal: Client;
  /** The coalesced watch, when the worker runs it (activities/vertex/region-watch.ts). */
  watches?: RegionWatches;
  /** The price table runs estimate their cost with; config/prices.yaml (or CT_PRICES) when not given. */
  prices?: Prices;
  /** CT_VERTEX_LATE_CREATE_WINDOW_MS (activities/vertex/duplicates.ts). */
  lateCreateWindowMs?: number;
}

export function createTrainingActivities(deps: TrainingDeps) {
  // Reading a job and sweeping its duplicates are steps of the watch, not activities of their own.
  const { readTrainingJob, sweepDuplicateTrainingJobs, ...vertexJobs } = createVertexJobActivities(deps);
  return {
    resolveTrainingRun: createResolveActivity(deps),
    ...vertexJobs,
    awaitTrainingJob: createAwaitActivity(
      readTrainingJob,
      sweepDuplicateTrainingJobs,
      deps.watches && { watches: deps.watches, kind: (job) => job.kind, progress: progressOf },
    ),
    startCanonicalRun: createDelegateActivity(deps),
    routeDataReady: createRouteActivity(deps),
    planTrainingFanout: createFanoutPlanActivity(deps),
  };
}
