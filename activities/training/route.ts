import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { sendDataReady, TrainingRequestError } from '../../client/training';
import type { PipelineConfig } from '../../config/pipeline-config';
import type { DataReadyReport, RouteDataReadyInput } from '../../contracts';

export const INVALID_DATA_READY = 'InvalidDataReady';

export function createRouteActivity(deps: { config: PipelineConfig; temporal: Client }) {
  return async function routeDataReady(req: { input: RouteDataReadyInput; taskQueue: string }): Promise<DataReadyReport> {
    try {
      return await sendDataReady(deps.temporal, deps.config, req.input, { taskQueue: req.taskQueue });
    } catch (err) {
      if (err instanceof TrainingRequestError) throw ApplicationFailure.nonRetryable(err.message, INVALID_DATA_READY);
      throw err;
    }
  };
}
