import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { sendDataReady, TrainingRequestError } from '../../client/training';
import type { PipelineConfig } from '../../config/pipeline-config';
import { INVALID_INPUT, type DataReadyReport, type RouteDataReadyInput } from '../../contracts';

export function createRouteActivity(deps: { config: PipelineConfig; temporal: Client }) {
  return async function routeDataReady(req: {
    input: RouteDataReadyInput;
    taskQueue: string;
  }): Promise<DataReadyReport> {
    try {
      return await sendDataReady(deps.temporal, deps.config, req.input, { taskQueue: req.taskQueue });
    } catch (err) {
      if (err instanceof TrainingRequestError) throw ApplicationFailure.nonRetryable(err.message, INVALID_INPUT);
      throw err;
    }
  };
}
