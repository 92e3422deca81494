import { ApplicationFailure } from '@temporalio/common';
import type { PipelineConfig } from '../../config/pipeline-config';
import { checkRunIdentity, InvalidRunError, segmentsOf } from '../../config/runs';
import { INVALID_INPUT, parsePayload, TrainingFanoutInput } from '../../contracts';

/** The segments a training fan-out starts and how many at once; shared with the client's checks. */
export function trainingFanoutPlan(config: PipelineConfig, raw: unknown): { segments: string[]; maxConcurrentRuns: number } {
  const input = parsePayload(TrainingFanoutInput, raw, 'training fan-out');
  const pipeline = config.pipelines[input.pipeline];
  if (!pipeline) throw new InvalidRunError(`unknown pipeline "${input.pipeline}"; the config has: ${Object.keys(config.pipelines).join(', ')}`);
  const all = segmentsOf(pipeline);
  if (!all.length) throw new InvalidRunError(`pipeline ${input.pipeline} has no segments: start its one run with ct train`);
  const unknown = input.segments?.filter((s) => !all.includes(s)) ?? [];
  if (unknown.length) throw new InvalidRunError(`segment ${unknown.join(', ')} not trained by ${input.pipeline}; its segments: ${all.join(', ')}`);
  const segments = input.segments ?? all;
  // Every run's identity is checked before any starts (unknown pipeline, environment, segment, partition).
  for (const segment of segments) checkRunIdentity(config, { ...input, segment });
  return { segments, maxConcurrentRuns: pipeline.fanOut.maxConcurrentRuns };
}

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
