import type { Storage } from '@google-cloud/storage';
import type { PipelineConfig } from '../../config/pipeline-config';
import type { VertexClientFactory } from '../../config/vertex';
import { createBatchJobActivities } from './batch-job';
import { createPredictionPlanActivities } from './plan';

export function createPredictionActivities(deps: {
  config: PipelineConfig;
  storage: Storage;
  vertex: VertexClientFactory;
}) {
  return { ...createPredictionPlanActivities(deps), ...createBatchJobActivities(deps) };
}
