import type { Client } from '@temporalio/client';
import type { PipelineConfig } from '../config/pipeline-config';
import { InvalidRunError, modelOf } from '../config/runs';
import { modelRolloutWorkflowType, newChampionSignal, rolloutId, type RolloutInput } from '../contracts';

// How a rollout starts, for a promotion (the announce activity) and for an operator (`ct rollout
// start`) alike: signal-with-start on the endpoint target's one workflow id. None running: it starts
// with this version. One running: it is told of the newer version (workflows/model-rollout.ts).

/** Whether the pipeline serves online in this environment (a serving: section that covers it). */
export function servesOnline(config: PipelineConfig, r: { pipeline: string; environment: string }): boolean {
  const serving = config.pipelines[r.pipeline]?.serving;
  return !!serving && (!serving.environments || serving.environments.includes(r.environment));
}

export function notServing(config: PipelineConfig, r: { pipeline: string; environment: string }): string {
  const serves = Object.keys(config.pipelines).filter((n) => config.pipelines[n]!.serving);
  return `pipeline ${r.pipeline} does not serve online in ${r.environment} (no serving: section for it); pipelines that serve: ${serves.join(', ') || 'none'}`;
}

export async function startRollout(
  temporal: Client,
  config: PipelineConfig,
  input: RolloutInput,
  taskQueue?: string,
): Promise<{ workflowId: string }> {
  const { env } = modelOf(config, { ...input, segment: input.segment ?? undefined });
  if (!servesOnline(config, input)) throw new InvalidRunError(notServing(config, input));
  const workflowId = rolloutId(input);
  await temporal.workflow.signalWithStart(modelRolloutWorkflowType, {
    workflowId,
    taskQueue: taskQueue ?? env.temporal.taskQueue,
    args: [input],
    signal: newChampionSignal,
    signalArgs: [{ version: input.version, startedBy: input.startedBy }],
    staticSummary: `Rollout ${input.pipeline} · ${input.environment}${input.segment ? ` · ${input.segment}` : ''} · version ${input.version}`,
  });
  return { workflowId };
}
