import type { TrainingRunInput } from '../contracts';
import { partitionExamples, partitionPatterns, type PipelineConfig } from './pipeline-config';
import { fill, type TemplateVars } from './templates';

// What a run is, in terms of the config: its pipeline, environment, segment and datasets. Shared
// by the client (to refuse bad requests before anything starts) and the resolve activity.

export class InvalidRunError extends Error {
  override name = 'InvalidRunError';
}

type RunIdentity = Pick<TrainingRunInput, 'pipeline' | 'environment' | 'partition' | 'segment'>;

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
  if (!pipeline) throw new InvalidRunError(`unknown pipeline "${input.pipeline}"; the config has: ${Object.keys(config.pipelines).join(', ')}`);
  const env = pipeline.environments[input.environment];
  if (!env) throw new InvalidRunError(`pipeline ${input.pipeline} has no environment "${input.environment}"; it has: ${Object.keys(pipeline.environments).join(', ')}`);
  const format = pipeline.data.partition;
  if (!partitionPatterns[format].test(input.partition)) {
    throw new InvalidRunError(`partition "${input.partition}" is not ${format} (like ${partitionExamples[format]}) as pipeline ${input.pipeline} expects`);
  }
  const segments = segmentsOf(pipeline);
  if (segments.length && !input.segment) throw new InvalidRunError(`pipeline ${input.pipeline} trains per segment: give one of ${segments.join(', ')}`);
  if (!segments.length && input.segment) throw new InvalidRunError(`pipeline ${input.pipeline} has no segments, but segment "${input.segment}" was given`);
  if (input.segment && !segments.includes(input.segment)) throw new InvalidRunError(`segment "${input.segment}" is not trained by ${input.pipeline}; its segments: ${segments.join(', ')}`);
  return { pipeline, env };
}

export function templateVars(input: RunIdentity, project: string, region: string): TemplateVars {
  const [country, sns] = input.segment ? input.segment.split('-') : [];
  return { environment: input.environment, project, region, pipeline: input.pipeline, partition: input.partition, segment: input.segment, country: country?.toUpperCase(), sns };
}

/** The datasets a run waits for (templates resolved for its segment). */
export function datasetsOf(config: PipelineConfig, input: RunIdentity): string[] {
  const { pipeline, env } = checkRunIdentity(config, input);
  const vars = templateVars(input, env.project, env.region);
  return [...new Set(pipeline.data.datasets.map((d) => fill(d, vars)))];
}

