import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { deliverDataReady } from '../../starts/data-ready';
import type { PipelineConfig } from '../../config/pipeline-config';
import { InvalidRunError } from '../../config/runs';
import { INVALID_INPUT, type DataReadyReport, type RouteDataReadyInput } from '../../contracts';

export function createRouteActivity(deps: { config: PipelineConfig; temporal: Client }) {
  return async function routeDataReady(req: {
    input: RouteDataReadyInput;
    taskQueue: string;
  }): Promise<DataReadyReport> {
    try {
      return await deliverDataReady(deps.temporal, deps.config, req.input, { taskQueue: req.taskQueue });
    } catch (err) {
      if (err instanceof InvalidRunError) throw ApplicationFailure.nonRetryable(err.message, INVALID_INPUT);
      throw err;
    }
  };
}
