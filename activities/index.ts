import type { MetricServiceClient } from '@google-cloud/monitoring';
import type { MetricMeter } from '@temporalio/common';
import { createFlagActivities, type FlagDeps } from './flags';
import { createAnnounceActivity } from './model/announce';
import { createModelArtifactActivities } from './model/artifacts';
import { createModelRegistryActivities } from './model/registry';
import { createResolveModelActivity } from './model/resolve-model';
import { createPredictionActivities } from './prediction';
import { createAwaitScheduledActivity } from './schedules/await-run';
import { createStartScheduledActivity } from './schedules/start-canonical';
import { createDeployActivities } from './serving/deploy';
import { createEndpointActivities } from './serving/endpoint';
import { createHealthActivity } from './serving/health';
import { createRolloutPlanActivity } from './serving/plan';
import { createSmokeActivity } from './serving/smoke';
import { createStackCheckActivities, type StackCheckDeps } from './stack-check';
import { createTrainingActivities, type TrainingDeps } from './training';
import { RegionWatches, type RegionWatchSettings } from './vertex/region-watch';
import type { ReadUsage } from './vertex/watch-pace';
import type { ReleasedWatches } from './vertex/released-watches';

/**
 * Every activity of the worker, built from injected clients: the worker wires real Google Cloud
 * clients, tests wire the same clients pointed at fake-gcs-server and the Vertex AI emulator.
 */
export type ActivityDeps = StackCheckDeps &
  TrainingDeps &
  FlagDeps & {
    /** The coalesced watch's settings; without them each watch reads its own job (vertex/await-job.ts). */
    watch?: RegionWatchSettings;
    /** The worker's meter, for the coalesced watch's pace and listings (ct_vertex_watch_*). */
    meter?: MetricMeter;
    /** The budget's count of the last minute's reads: the coalesced watch yields to other callers' (vertex/watch-pace.ts). */
    readUsage?: ReadUsage;
    /** The worker's async completions: a coalesced watch lets go of its activity (vertex/released-watches.ts). */
    released?: ReleasedWatches;
    /** Cloud Monitoring, where a rollout reads its endpoint's health (infra/monitoring.ts). */
    monitoring: MetricServiceClient;
  };

export function createActivities(deps: ActivityDeps) {
  const watches = deps.watch
    ? new RegionWatches(deps.vertex, deps.watch, (message, attrs) => console.warn(`vertex watch: ${message}`, attrs), {
        meter: deps.meter,
        usage: deps.readUsage,
        released: deps.released,
      })
    : undefined;
  return {
    ...createStackCheckActivities(deps),
    ...createTrainingActivities({ ...deps, watches }),
    ...createModelRegistryActivities(deps),
    ...createModelArtifactActivities(deps),
    announceModel: createAnnounceActivity(deps),
    resolveModelRef: createResolveModelActivity(deps),
    ...createPredictionActivities({ ...deps, watches }),
    startScheduledRun: createStartScheduledActivity(deps),
    awaitScheduledRun: createAwaitScheduledActivity(deps),
    planRollout: createRolloutPlanActivity(deps),
    ...createEndpointActivities(deps),
    ...createDeployActivities(deps),
    smokePredict: createSmokeActivity(deps),
    readHealth: createHealthActivity(deps),
    ...createFlagActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
