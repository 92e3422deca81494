import { parsePayload, partitionProblem, TrainingFanoutInput, type TrainingRunInput } from '../contracts';
import type { PipelineConfig } from './pipeline-config';
import { fill, type TemplateVars } from './templates';

// What a run is, in terms of the config: its pipeline, environment, segment and datasets. Shared
// by the client (to refuse bad requests before anything starts) and the resolve activity.

export class InvalidRunError extends Error {
  override name = 'InvalidRunError';
}

type RunIdentity = Pick<TrainingRunInput, 'pipeline' | 'environment' | 'partition' | 'segment'>;

/** Every environment some pipeline of the config has, sorted (for checks and the lists refusals print). */
export function environmentsOf(config: PipelineConfig): string[] {
  return [...new Set(Object.values(config.pipelines).flatMap((p) => Object.keys(p.environments)))].sort();
}

/** The segments a pipeline trains, as "jp-instagram", after exclusions. */
export function segmentsOf(pipeline: PipelineConfig['pipelines'][string]): string[] {
  const s = pipeline.segments;
  if (!s) return [];
  return s.countries.flatMap((country) =>
    s.sns
      .filter((sns) => !s.exclude.some((e) => (!e.country || e.country === country) && (!e.sns || e.sns === sns)))
      .map((sns) => `${country.toLowerCase()}-${sns}`),
  );
}

/** Checks a run's identity against the config; the same checks run in the client before a start. */
export function checkRunIdentity(config: PipelineConfig, input: RunIdentity) {
  const pipeline = config.pipelines[input.pipeline];
  if (!pipeline)
    throw new InvalidRunError(
      `unknown pipeline "${input.pipeline}"; the config has: ${Object.keys(config.pipelines).join(', ')}`,
    );
  const env = pipeline.environments[input.environment];
  if (!env)
    throw new InvalidRunError(
      `pipeline ${input.pipeline} has no environment "${input.environment}"; it has: ${Object.keys(pipeline.environments).join(', ')}`,
    );
  const wrongPartition = partitionProblem(input.partition, pipeline.data.partition, `pipeline ${input.pipeline}`);
  if (wrongPartition) throw new InvalidRunError(wrongPartition);
  const segments = segmentsOf(pipeline);
  if (segments.length && !input.segment)
    throw new InvalidRunError(`pipeline ${input.pipeline} trains per segment: give one of ${segments.join(', ')}`);
  if (!segments.length && input.segment)
    throw new InvalidRunError(`pipeline ${input.pipeline} has no segments, but segment "${input.segment}" was given`);
  if (input.segment && !segments.includes(input.segment))
    throw new InvalidRunError(
      `segment "${input.segment}" is not trained by ${input.pipeline}; its segments: ${segments.join(', ')}`,
    );
  return { pipeline, env };
}

export function templateVars(input: RunIdentity, project: string, region: string): TemplateVars {
  const [country, sns] = input.segment ? input.segment.split('-') : [];
  return {
    environment: input.environment,
    project,
    region,
    pipeline: input.pipeline,
    partition: input.partition,
    segment: input.segment,
    country: country?.toUpperCase(),
    sns,
  };
}

/** The datasets a run waits for (templates resolved for its segment). */
export function datasetsOf(config: PipelineConfig, input: RunIdentity): string[] {
  const { pipeline, env } = checkRunIdentity(config, input);
  const vars = templateVars(input, env.project, env.region);
  return [...new Set(pipeline.data.datasets.map((d) => fill(d, vars)))];
}

/** The Vertex model a consumer means by (environment, pipeline, segment), checked against the config. */
export function modelOf(
  config: PipelineConfig,
  req: { environment: string; pipeline: string; segment?: string; minPartition?: string },
) {
  const pipeline = config.pipelines[req.pipeline];
  if (!pipeline)
    throw new InvalidRunError(
      `unknown pipeline "${req.pipeline}"; the config has: ${Object.keys(config.pipelines).join(', ')}`,
    );
  const env = pipeline.environments[req.environment];
  if (!env)
    throw new InvalidRunError(
      `pipeline ${req.pipeline} has no environment "${req.environment}"; it has: ${Object.keys(pipeline.environments).join(', ')}`,
    );
  if (!pipeline.model) {
    const withModels = Object.keys(config.pipelines).filter((name) => config.pipelines[name]!.model);
    throw new InvalidRunError(
      `pipeline ${req.pipeline} registers no model (no model: section); pipelines that do: ${withModels.join(', ') || 'none'}`,
    );
  }
  const wrongPartition =
    req.minPartition && partitionProblem(req.minPartition, pipeline.data.partition, `pipeline ${req.pipeline}`);
  if (wrongPartition) throw new InvalidRunError(`minPartition: ${wrongPartition}`);
  const segments = segmentsOf(pipeline);
  if (segments.length && !segments.includes(req.segment ?? ''))
    throw new InvalidRunError(
      `pipeline ${req.pipeline} has one model per segment: give segment, one of ${segments.join(', ')}`,
    );
  if (!segments.length && req.segment)
    throw new InvalidRunError(`pipeline ${req.pipeline} has no segments, but segment "${req.segment}" was given`);
  // Model ids do not depend on the partition; fill it with a marker that no id may contain.
  const modelId = fill(
    pipeline.model.registry.modelId,
    templateVars({ ...req, partition: '?' }, env.project, env.region),
  );
  return { project: env.project, region: env.region, modelId, env };
}

/** The segments a training fan-out starts and how many at once; checked by the client before it starts anything, and by the fan-out's planning activity. */
export function trainingFanoutPlan(
  config: PipelineConfig,
  raw: unknown,
): { segments: string[]; maxConcurrentRuns: number } {
  const input = parsePayload(TrainingFanoutInput, raw, 'training fan-out');
  const pipeline = config.pipelines[input.pipeline];
  if (!pipeline)
    throw new InvalidRunError(
      `unknown pipeline "${input.pipeline}"; the config has: ${Object.keys(config.pipelines).join(', ')}`,
    );
  const all = segmentsOf(pipeline);
  if (!all.length)
    throw new InvalidRunError(`pipeline ${input.pipeline} has no segments: start its one run with ct train`);
  const unknown = input.segments?.filter((s) => !all.includes(s)) ?? [];
  if (unknown.length)
    throw new InvalidRunError(
      `segment ${unknown.join(', ')} not trained by ${input.pipeline}; its segments: ${all.join(', ')}`,
    );
  const segments = input.segments ?? all;
  // Every run's identity is checked before any starts (unknown pipeline, environment, segment, partition).
  for (const segment of segments) checkRunIdentity(config, { ...input, segment });
  return { segments, maxConcurrentRuns: pipeline.fanOut.maxConcurrentRuns };
}

/** The pipeline's prediction section and environment, or the reason there is none. Read by the client and by the planning activity. */
export function predictionOf(
  config: PipelineConfig,
  input: { pipeline: string; environment: string; partition: string },
) {
  const pipeline = config.pipelines[input.pipeline];
  if (!pipeline)
    throw new Error(
      `unknown pipeline "${input.pipeline}"; the config has: ${Object.keys(config.pipelines).join(', ')}`,
    );
  const env = pipeline.environments[input.environment];
  if (!env)
    throw new Error(
      `pipeline ${input.pipeline} has no environment "${input.environment}"; it has: ${Object.keys(pipeline.environments).join(', ')}`,
    );
  const prediction = pipeline.prediction;
  if (!prediction || !pipeline.model) {
    const predicting = Object.keys(config.pipelines).filter((name) => config.pipelines[name]!.prediction);
    throw new Error(
      `pipeline ${input.pipeline} has no prediction: section; pipelines that predict: ${predicting.join(', ') || 'none'}`,
    );
  }
  const wrongPartition = partitionProblem(input.partition, prediction.partition, `${input.pipeline}'s prediction`);
  if (wrongPartition) throw new Error(wrongPartition);
  const matrix = segmentsOf({ ...pipeline, segments: prediction.segments ?? pipeline.segments });
  return {
    pipeline,
    env,
    prediction,
    model: pipeline.model,
    matrix,
    trainsPerSegment: segmentsOf(pipeline).length > 0,
  };
}

export const unknownSegments = (pipeline: string, unknown: string[], matrix: string[]) =>
  `segment ${unknown.join(', ')} not in ${pipeline}'s prediction matrix; it has ${matrix.join(', ')}`;
