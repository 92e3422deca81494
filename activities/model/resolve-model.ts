import { ApplicationFailure } from '@temporalio/common';
import type { PipelineConfig } from '../../config/pipeline-config';
import { InvalidRunError, modelOf } from '../../config/runs';
import { INVALID_INPUT } from '../../contracts';
import type { ModelRef } from './registry';

/** Which Vertex model a consumer means by (environment, pipeline, segment): the worker owns the config. */
export function createResolveModelActivity(deps: { config: PipelineConfig }) {
  // Nothing to await: it reads the config. Activities must return promises, so it returns one.
  return function resolveModelRef(req: {
    environment: string;
    pipeline: string;
    segment?: string;
    minPartition?: string;
  }): Promise<ModelRef> {
    try {
      const { project, region, modelId } = modelOf(deps.config, req);
      return Promise.resolve({ project, region, modelId });
    } catch (err) {
      if (err instanceof InvalidRunError) throw ApplicationFailure.nonRetryable(err.message, INVALID_INPUT);
      throw err;
    }
  };
}
