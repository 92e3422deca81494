import { ApplicationFailure } from '@temporalio/common';
import type { PipelineConfig } from '../../config/pipeline-config';
import { pricesOnce, ratesFor, type Prices } from '../../config/prices';
import { InvalidRunError, trainingFanoutPlan } from '../../config/runs';
import { INVALID_INPUT, TrainingFanoutInput, type Rates } from '../../contracts';

export function createFanoutPlanActivity(deps: { config: PipelineConfig; prices?: Prices }) {
  return function planTrainingFanout(
    raw: unknown,
  ): Promise<{ segments: string[]; maxConcurrentRuns: number; rates?: Rates }> {
    try {
      const plan = trainingFanoutPlan(deps.config, raw);
      const { pipeline, environment } = TrainingFanoutInput.parse(raw);
      // The fan-out's own actions are priced like its runs' (workflows/interceptors/run-cost.ts reads `rates`).
      const region = deps.config.pipelines[pipeline]!.environments[environment]!.region;
      return Promise.resolve({ ...plan, rates: ratesFor(deps.prices ?? pricesOnce(), region) });
    } catch (err) {
      // Only the input's faults are the caller's; anything else is a bug, retried and seen as one.
      if (err instanceof InvalidRunError) throw ApplicationFailure.nonRetryable(err.message, INVALID_INPUT);
      throw err;
    }
  };
}
