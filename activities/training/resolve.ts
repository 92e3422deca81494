import type { Storage } from '@google-cloud/storage';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Environment, ModelPolicy, Pipeline, PipelineConfig } from '../../config/pipeline-config';
import { pricesOnce, ratesFor, type Prices } from '../../config/prices';
import { checkRunIdentity, datasetsOf, InvalidRunError, templateVars } from '../../config/runs';
import { fill, fillDeep, TemplateError, type TemplateVars } from '../../config/templates';
import { INVALID_INPUT, trainingJobId, trainingOutputs, trainingRunId, type TrainingRunInput } from '../../contracts';
import { readGcsText } from '../gcs';
import { checkParameters, readSpec } from './kfp-spec';
import type { ModelPlan, RunPlan } from '../../contracts';

type ResolveDeps = { config: PipelineConfig; storage: Storage; prices?: Prices };

const reject = (message: string) => ApplicationFailure.nonRetryable(message, INVALID_INPUT);

export function createResolveActivity(deps: ResolveDeps) {
  return async function resolveTrainingRun(input: TrainingRunInput): Promise<RunPlan> {
    try {
      return await resolve(deps, input);
    } catch (err) {
      // A template the run cannot fill is a config error: retrying will not help.
      if (err instanceof TemplateError) throw reject(`pipeline ${input.pipeline}: ${err.message}`);
      if (err instanceof InvalidRunError) throw reject(err.message);
      throw err;
    }
  };
}

async function resolve(deps: ResolveDeps, input: TrainingRunInput): Promise<RunPlan> {
  const { pipeline, env } = checkRunIdentity(deps.config, input);
  const vars = templateVars(input, env.project, env.region);
  const labels: Record<string, string> = {
    ...env.labels,
    'ct-pipeline': input.pipeline,
    'ct-environment': input.environment,
    'ct-partition': input.partition.toLowerCase(),
    ...(input.segment ? { 'ct-segment': input.segment } : {}),
  };
  const displayName = `${input.pipeline}${input.segment ? `-${input.segment}` : ''}-${input.partition}`;
  const training = await trainingOf(deps, pipeline, env, input, vars, displayName);
  const [country, sns] = input.segment ? input.segment.split('-') : [];
  // The job ids carry the run id of the workflow run that planned them (contracts/vertex-naming.ts).
  const runId = Context.current().info.workflowExecution?.runId;
  if (!runId) throw new Error('resolveTrainingRun plans a workflow run and runs only as its activity');
  const attempts = Array.from({ length: pipeline.retry.maxAttempts }, (_, i) => {
    const jobId = trainingJobId(input, runId, i + 1);
    return { jobId, outputs: trainingOutputs(training, jobId) };
  });
  return {
    workflowId: trainingRunId(input),
    pipeline: input.pipeline,
    environment: input.environment,
    partition: input.partition,
    segment: input.segment,
    country: country?.toUpperCase(),
    sns,
    project: env.project,
    region: env.region,
    serviceAccount: env.serviceAccount,
    labels,
    datasets: datasetsOf(deps.config, input),
    dataTimeoutMs: pipeline.data.timeout,
    onDataTimeout: pipeline.data.onTimeout,
    maxAttempts: pipeline.retry.maxAttempts,
    pollIntervalMs: pipeline.polling.interval,
    pollChunkMs: pipeline.polling.chunk,
    rates: ratesFor(deps.prices ?? pricesOnce(), env.region),
    training,
    attempts,
    model: pipeline.model && modelPlanOf(pipeline.model, env, vars, labels, input.environment),
  };
}

function promotionFor(p: ModelPolicy['promotion'], environment: string): ModelPlan['promotion'] {
  if (p.mode === 'direct' || (p.environments && !p.environments.includes(environment))) return { mode: 'direct' };
  return { mode: 'approval', timeoutMs: p.timeout, onTimeout: p.onTimeout };
}

async function readJsonObject(storage: Storage, uri: string): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(await readGcsText(storage, uri));
  } catch (err) {
    if (err instanceof SyntaxError) throw reject(`${uri} is not JSON`);
    throw err;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw reject(`${uri} must hold a JSON object of parameter values`);
  return value as Record<string, unknown>;
}

/** The job the run trains with: a PipelineJob (its spec read and its parameters checked) or a CustomJob. */
async function trainingOf(
  deps: ResolveDeps,
  pipeline: Pipeline,
  env: Environment,
  input: TrainingRunInput,
  vars: TemplateVars,
  displayName: string,
): Promise<RunPlan['training']> {
  const t = pipeline.training;
  if (t.kind === 'pipelineJob') {
    const uri = fill(t.pipelineSpecUri, vars);
    const { spec, sha256 } = await readSpec(deps.storage, uri);
    const fromFile = t.parameterValuesUri ? await readJsonObject(deps.storage, fill(t.parameterValuesUri, vars)) : {};
    const parameterValues = {
      ...fromFile,
      ...(fillDeep(t.parameterValues, vars) as Record<string, unknown>),
      ...(input.parameters ?? {}),
    };
    checkParameters(spec, parameterValues, uri, input.parameters);
    return {
      kind: 'pipelineJob',
      displayName,
      pipelineSpecUri: uri,
      specSha256: sha256,
      pipelineRoot: fill(env.pipelineRoot, vars),
      parameterValues,
      enableCaching: t.enableCaching,
    };
  }
  if (input.parameters) throw reject(`pipeline ${input.pipeline} runs a CustomJob, which takes no parameter overrides`);
  return {
    kind: 'customJob',
    displayName,
    baseOutputDirectory: fill(t.baseOutputDirectory, vars),
    workerPoolSpecs: t.workerPoolSpecs.map((w) => ({ ...w, args: w.args?.map((a) => fill(a, vars)) })),
  };
}

/** What the run does with a model it trained: the gate, the registry entry, its promotion and announcement. */
function modelPlanOf(
  m: NonNullable<Pipeline['model']>,
  env: Environment,
  vars: TemplateVars,
  labels: Record<string, string>,
  environment: string,
): ModelPlan {
  return {
    metricsFile: m.metricsFile,
    thresholds: m.thresholds,
    champion: m.champion,
    modelId: fill(m.registry.modelId, vars),
    displayName: fill(m.registry.displayName, vars),
    servingImage: m.registry.servingImage,
    labels: { ...env.labels, ...m.registry.labels, ...labels },
    uploadTimeoutMs: m.registry.uploadTimeout,
    promotion: promotionFor(m.promotion, environment),
    manifestUri: m.modelReady && fill(m.modelReady.manifest, vars),
    flagUri: m.modelReady?.flag && fill(m.modelReady.flag, vars),
  };
}
