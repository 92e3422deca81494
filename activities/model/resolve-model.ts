import { ApplicationFailure } from '@temporalio/common';
import type { PipelineConfig } from '../../config/pipeline-config';
import { segmentsOf, templateVars } from '../../config/runs';
import { fill } from '../../config/templates';
import type { ModelRef } from './registry';

export const UNKNOWN_MODEL = 'UnknownModel';

/** Which Vertex model a consumer means by (environment, pipeline, segment): the worker owns the config. */
export function createResolveModelActivity(deps: { config: PipelineConfig }) {
  // Nothing to await: it reads the config. Activities must return promises, so it returns one.
  return function resolveModelRef(req: { environment: string; pipeline: string; segment?: string }): Promise<ModelRef> {
    const refuse = (why: string) => ApplicationFailure.nonRetryable(why, UNKNOWN_MODEL);
    const pipeline = deps.config.pipelines[req.pipeline];
    if (!pipeline) throw refuse(`unknown pipeline "${req.pipeline}"; the config has: ${Object.keys(deps.config.pipelines).join(', ')}`);
    const env = pipeline.environments[req.environment];
    if (!env) throw refuse(`pipeline ${req.pipeline} has no environment "${req.environment}"`);
    if (!pipeline.model) throw refuse(`pipeline ${req.pipeline} registers no model (no model: section)`);
    const segments = segmentsOf(pipeline);
    if (segments.length && !segments.includes(req.segment ?? '')) throw refuse(`pipeline ${req.pipeline} has one model per segment: give one of ${segments.join(', ')}`);
    if (!segments.length && req.segment) throw refuse(`pipeline ${req.pipeline} has no segments, but segment "${req.segment}" was given`);
    // Model ids do not depend on the partition; fill it with a marker that no id may contain.
    const modelId = fill(pipeline.model.registry.modelId, templateVars({ ...req, partition: '?' }, env.project, env.region));
    return Promise.resolve({ project: env.project, region: env.region, modelId });
  };
}
