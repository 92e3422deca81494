import { ApplicationFailure } from '@temporalio/common';
import type { PipelineConfig } from '../../config/pipeline-config';
import { InvalidRunError, trainingFanoutPlan } from '../../config/runs';
import { INVALID_INPUT } from '../../contracts';

export function createFanoutPlanActivity(deps: { config: PipelineConfig }) {
  return function planTrainingFanout(raw: unknown): Promise<{ segments: string[]; maxConcurrentRuns: number }> {
    try {
      return Promise.resolve(trainingFanoutPlan(deps.config, raw));
    } catch (err) {
      // Only the input's faults are the caller's; anything else is a bug, retried and seen as one.
      if (err instanceof InvalidRunError) throw ApplicationFailure.nonRetryable(err.message, INVALID_INPUT);
      throw err;
    }
  };
}
