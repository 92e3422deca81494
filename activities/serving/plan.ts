import { ApplicationFailure } from '@temporalio/common';
import type { PipelineConfig } from '../../config/pipeline-config';
import { pricesOnce, ratesFor, type Prices } from '../../config/prices';
import { InvalidRunError, modelOf, templateVars } from '../../config/runs';
import { notServing, servesOnline } from '../../starts/rollout';
import { fill } from '../../config/templates';
import { INVALID_INPUT, parsePayload, RolloutInput, rolloutId, type RolloutPlan } from '../../contracts';

/** The serving section of the pipeline, for this environment, or why there is none. */
export function servingOf(config: PipelineConfig, input: RolloutInput) {
  const { project, region, modelId } = modelOf(config, { ...input, segment: input.segment ?? undefined });
  if (!servesOnline(config, input)) throw new InvalidRunError(notServing(config, input));
  return { project, region, modelId, serving: config.pipelines[input.pipeline]!.serving! };
}

export function createRolloutPlanActivity(deps: { config: PipelineConfig; prices?: Prices }) {
  return async function planRollout(raw: unknown): Promise<RolloutPlan> {
    const input = parsePayload(RolloutInput, raw, 'rollout');
    let found: ReturnType<typeof servingOf>;
    try {
      found = servingOf(deps.config, input);
    } catch (err) {
      throw ApplicationFailure.nonRetryable(err instanceof Error ? err.message : String(err), INVALID_INPUT);
    }
    const { project, region, modelId, serving } = found;
    const vars = templateVars({ ...input, segment: input.segment ?? undefined, partition: '?' }, project, region);
    const workflowId = rolloutId(input);
    return Promise.resolve({
      workflowId,
      pipeline: input.pipeline,
      environment: input.environment,
      segment: input.segment ?? null,
      project,
      region,
      model: `projects/${project}/locations/${region}/models/${modelId}`,
      modelId,
      version: input.version,
      endpointDisplayName: fill(serving.endpoint.displayName, vars),
      endpointLabels: serving.endpoint.labels,
      servingKey: workflowId
        .replace(/^rollout:/, '')
        .replace(/[^a-z0-9_-]/g, '-')
        .slice(0, 63),
      machine: serving.machine,
      steps: serving.steps,
      watchMs: serving.watch,
      checkMs: serving.checkEvery,
      health: serving.health,
      approveEachStep: serving.approveEachStep,
      keepPreviousMs: serving.keepPrevious,
      smoke: serving.smoke,
      nodeHourUsd: ratesFor(deps.prices ?? pricesOnce(), region)?.nodeHour[serving.machine.machineType] ?? null,
    });
  };
}
