import type { Storage } from '@google-cloud/storage';
import type { PipelineConfig } from '../../config/pipeline-config';
import type { Prices } from '../../config/prices';
import type { VertexClientFactory } from '../../infra/vertex/clients';
import { createBatchJobActivities } from './batch-job';
import { createPredictionPlanActivities } from './plan';
import type { RegionWatches } from '../vertex/region-watch';

export function createPredictionActivities(deps: {
  config: PipelineConfig;
  storage: Storage;
  vertex: VertexClientFactory;
  watches?: RegionWatches;
  prices?: Prices;
  lateCreateWindowMs?: number;
}) {
  return { ...createPredictionPlanActivities(deps), ...createBatchJobActivities(deps) };
}
