import type { Storage } from '@google-cloud/storage';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { PipelineConfig } from '../../config/pipeline-config';
import { pricesOnce, ratesFor, type Prices } from '../../config/prices';
import { predictionOf, templateVars, unknownSegments } from '../../config/runs';
import { fill } from '../../config/templates';
import {
  INVALID_INPUT,
  predictionSegmentId,
  PredictionRunInput,
  type PredictionSegmentInput,
  type PredictionSummary,
} from '../../contracts';
import { classifyGcsError } from '../errors';
import { GCS_NOT_FOUND } from '../../contracts';
import { gcsObject, readGcsText } from '../gcs';
import type { PredictionPlan, SegmentPlan } from '../../contracts';

const refuse = (why: string) => ApplicationFailure.nonRetryable(why, INVALID_INPUT);

type PlanDeps = { config: PipelineConfig; storage: Storage; prices?: Prices };

export function createPredictionPlanActivities(deps: PlanDeps) {
  return {
    planPrediction: (raw: unknown): Promise<PredictionPlan> => planPrediction(deps, raw),

    resolveSegmentPrediction: (input: PredictionSegmentInput): Promise<SegmentPlan> =>
      Promise.resolve(segmentPlan(deps, input)),

    async writePredictionSummary({ summary }: { summary: PredictionSummary }): Promise<void> {
      const { bucket, object } = gcsObject(summary.summaryUri);
      try {
        await deps.storage
          .bucket(bucket)
          .file(object)
          .save(`${JSON.stringify(summary, null, 2)}\n`, { resumable: false, contentType: 'application/json' });
      } catch (err) {
        throw classifyGcsError(err, summary.summaryUri);
      }
    },
  };
}

function lookup(config: PipelineConfig, input: { pipeline: string; environment: string; partition: string }) {
  try {
    return predictionOf(config, input);
  } catch (err) {
    throw refuse((err as Error).message);
  }
}

/** A prediction run's plan: its segments (less those a retry reuses), its shared model, its prices. */
async function planPrediction(deps: PlanDeps, raw: unknown): Promise<PredictionPlan> {
  const parsed = PredictionRunInput.safeParse(raw);
  if (!parsed.success) throw refuse(`invalid prediction run:\n${z.prettifyError(parsed.error)}`);
  const input = parsed.data;
  const { env, prediction, matrix, model, trainsPerSegment } = lookup(deps.config, input);
  const unknown = (input.segments ?? []).filter((s) => !matrix.includes(s));
  if (unknown.length) throw refuse(unknownSegments(input.pipeline, unknown, matrix));
  const summaryUri = fill(prediction.summary, templateVars({ ...input, segment: undefined }, env.project, env.region));
  let segments = input.segments ?? matrix;
  let reused: PredictionPlan['reused'] = [];
  if (input.retryFailed) {
    const previous = await readSummary(deps.storage, summaryUri);
    if (!previous)
      throw refuse(`no earlier summary at ${summaryUri}: nothing to retry; start the run without retryFailed`);
    reused = previous.segments
      .filter((s) => (s.outcome === 'succeeded' || s.outcome === 'reused') && segments.includes(s.segment))
      .map((s) => ({ ...s, outcome: 'reused' as const }));
    segments = segments.filter((s) => !reused.some((r) => r.segment === s));
  }
  const sharedModel = trainsPerSegment
    ? undefined
    : {
        project: env.project,
        region: env.region,
        modelId: fill(model.registry.modelId, templateVars({ ...input, segment: undefined }, env.project, env.region)),
      };
  return {
    segments,
    summaryUri,
    maxConcurrentJobs: prediction.maxConcurrentJobs,
    onFailure: prediction.onFailure,
    childrenPerRun: prediction.childrenPerRun,
    sharedModel,
    maxAgeMs: prediction.model.maxAge,
    reused,
    rates: ratesFor(deps.prices ?? pricesOnce(), env.region),
  };
}

/** One segment's batch job, from the config. */
function segmentPlan(deps: PlanDeps, input: PredictionSegmentInput): SegmentPlan {
  const { pipeline, env, prediction, model, matrix, trainsPerSegment } = lookup(deps.config, input);
  if (!matrix.includes(input.segment)) throw refuse(unknownSegments(input.pipeline, [input.segment], matrix));
  const vars = templateVars(input, env.project, env.region);
  // A pipeline that trains per segment predicts each segment with its own model; otherwise one model serves all.
  const modelSegment = trainsPerSegment ? input.segment : undefined;
  const modelVars = templateVars({ ...input, segment: modelSegment }, env.project, env.region);
  const [country, sns] = input.segment.split('-');
  return {
    workflowId: predictionSegmentId(input),
    environment: input.environment,
    pipeline: input.pipeline,
    partition: input.partition,
    segment: input.segment,
    project: env.project,
    region: env.region,
    serviceAccount: env.serviceAccount,
    model: { project: env.project, region: env.region, modelId: fill(model.registry.modelId, modelVars) },
    modelKey: { environment: input.environment, pipeline: input.pipeline, segment: modelSegment },
    maxAgeMs: prediction.model.maxAge,
    waitTimeoutMs: prediction.model.waitTimeout,
    job: {
      displayName: `${input.pipeline} ${input.segment} ${input.partition}`.slice(0, 128),
      labels: {
        ...env.labels,
        'ct-pipeline': input.pipeline,
        'ct-environment': input.environment,
        'ct-partition': input.partition.toLowerCase(),
        'ct-country': country!,
        'ct-sns': sns!,
      },
      input: { uri: fill(prediction.input.uri, vars), format: prediction.input.format },
      output: { uri: fill(prediction.output.uri, vars), format: prediction.output.format },
      machine: prediction.machine,
    },
    partiallySucceeded: prediction.partiallySucceeded,
    pollIntervalMs: pipeline.polling.interval,
    pollChunkMs: pipeline.polling.chunk,
    rates: ratesFor(deps.prices ?? pricesOnce(), env.region),
  };
}

async function readSummary(storage: Storage, uri: string): Promise<PredictionSummary | undefined> {
  try {
    return JSON.parse(await readGcsText(storage, uri)) as PredictionSummary;
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === GCS_NOT_FOUND) return undefined;
    throw err;
  }
}
