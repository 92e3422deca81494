import { Serving } from './serving-config';
import { RetrainOnAlert } from './alert-trigger-config';
import { z } from 'zod';
import { flagConflicts, FlagTriggers, flagTriggerIssues } from './flag-trigger-config';
import { Prediction } from './prediction-config';
import { Schedules } from './schedule-config';
import {
  Duration,
  GcsUri,
  Json,
  LabelMap,
  PartitionFormat,
  partitionExamples,
  PLACEHOLDERS,
  Segments,
  template,
} from './primitives';

// The pipeline definitions file (config/pipelines.yaml): what each pipeline trains, where, on what
// data, per environment and per segment. Parsed once at the boundary (worker start, CLI command);
// everything downstream gets typed values. `npm run config:schema` writes the JSON Schema editors
// use (config/pipelines.schema.json) from this same schema.

export { Duration, PartitionFormat, partitionExamples, PLACEHOLDERS, Segments };

export const Environment = z.strictObject({
  project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a GCP project id'),
  region: z.string().regex(/^[a-z]+-[a-z]+[0-9]+$/, 'must be a Vertex AI region like us-central1'),
  serviceAccount: z
    .email()
    .refine((s) => s.endsWith('.gserviceaccount.com'), 'must be a service account email (…@….iam.gserviceaccount.com)'),
  /** Root under which Vertex writes pipeline outputs (runtimeConfig.gcsOutputDirectory). */
  pipelineRoot: GcsUri,
  temporal: z
    .strictObject({
      namespace: z.string().min(1).default('ct-coordinator'),
      taskQueue: z.string().min(1).default('ct-coordinator'),
    })
    .default({ namespace: 'ct-coordinator', taskQueue: 'ct-coordinator' }),
  labels: LabelMap.default({}),
});
export type Environment = z.output<typeof Environment>;

export const DataDependencies = z
  .strictObject({
    partition: PartitionFormat.default('daily'),
    /** Datasets whose data-ready a run waits for; templates such as "{sns}_events" resolve per segment. */
    datasets: z
      .array(template(z.string().regex(/^[a-z{][a-z0-9_{}.-]*$/, 'dataset names: lowercase, digits, _ . -')))
      .min(1),
    timeout: Duration.prefault('24h'),
    onTimeout: z.enum(['fail', 'skip']).default('fail'),
    /** Datasets whose partitions are ready when a flag object exists in GCS (config/flag-trigger-config.ts). */
    flags: FlagTriggers.optional(),
  })
  .superRefine((d, ctx) => {
    for (const { dataset, message } of flagTriggerIssues(d.datasets, d.flags ?? {}))
      ctx.addIssue({ code: 'custom', path: ['flags', dataset], message });
  });

const PipelineJobTraining = z.strictObject({
  kind: z.literal('pipelineJob'),
  /** A compiled KFP spec (YAML or JSON) in GCS; sent as pipelineSpec (templateUri takes only Template Registry URIs). */
  pipelineSpecUri: GcsUri,
  parameterValues: z.record(z.string(), Json).default({}),
  /** A JSON object of parameter values in GCS, under the inline ones. */
  parameterValuesUri: GcsUri.optional(),
  /** Like the Vertex SDK's enable_caching: set on every task; the compiled setting applies when omitted. */
  enableCaching: z.boolean().optional(),
});

const CustomJobTraining = z.strictObject({
  kind: z.literal('customJob'),
  workerPoolSpecs: z
    .array(
      z.strictObject({
        machineType: z.string().min(1),
        replicaCount: z.number().int().min(1).default(1),
        imageUri: z.string().min(1),
        command: z.array(z.string()).optional(),
        args: z.array(template(z.string())).optional(),
        acceleratorType: z.string().optional(),
        acceleratorCount: z.number().int().min(1).optional(),
      }),
    )
    .min(1),
  baseOutputDirectory: GcsUri,
});

export const Training = z.discriminatedUnion('kind', [PipelineJobTraining, CustomJobTraining]);
export type Training = z.output<typeof Training>;

const Comparison = z.enum(['>=', '>', '<=', '<']);

/** After training: judge the candidate, register it as a new version, promote it, announce it. */
export const ModelPolicy = z.strictObject({
  /** The metrics JSON the job writes, relative to its output directory. */
  metricsFile: z.string().min(1).default('metrics.json'),
  thresholds: z.array(z.strictObject({ metric: z.string().min(1), op: Comparison, value: z.number() })).default([]),
  /** Whether the candidate must beat the current champion, by how much, on which metric. */
  champion: z
    .strictObject({
      metric: z.string().min(1),
      higherIsBetter: z.boolean().default(true),
      minImprovement: z.number().min(0).default(0),
    })
    .optional(),
  registry: z.strictObject({
    /** One model per pipeline (and segment): each run registers a new version of it. */
    modelId: template(
      z.string().regex(/^[a-z_{][a-z0-9_{}-]{0,62}$/, 'model ids: [a-z0-9_-], at most 63, not starting with a digit'),
    ),
    displayName: template(z.string().min(1).max(128)),
    servingImage: z.string().min(1),
    labels: LabelMap.default({}),
    /**
     * UploadModel has no idempotency key: a retry looks for the version by the run's label, so the
     * activity's timeout must exceed how long an upload takes (a dead worker's retry waits this long).
     */
    uploadTimeout: Duration.prefault('10m'),
  }),
  /** How a candidate that passed the gate becomes `champion`: at once, or after a person approves. */
  promotion: z
    .discriminatedUnion('mode', [
      z.strictObject({ mode: z.literal('direct') }),
      z.strictObject({
        mode: z.literal('approval'),
        /** How long the run waits for `ct approve` / `ct reject` (it holds no compute meanwhile). */
        timeout: Duration.prefault('3d'),
        /** What silence means: the candidate is rejected (the safe default), or promoted. */
        onTimeout: z.enum(['reject', 'promote']).default('reject'),
        /** Environments that need approval; the others promote directly. All when omitted. */
        environments: z.array(z.string().min(1)).min(1).optional(),
      }),
    ])
    .default({ mode: 'direct' }),
  modelReady: z
    .strictObject({
      /** JSON manifest (model, version, metrics, partition, trained-at, run) at a stable path. */
      manifest: GcsUri,
      /** The flag object today's flag-file consumers wait for. */
      flag: GcsUri.optional(),
    })
    .optional(),
  // Who is told: every consumer waiting for this model when it is promoted (`waitForModel`, prediction
  // runs) gets a `modelReady` signal; flag-file consumers see the flag.
});
export type ModelPolicy = z.output<typeof ModelPolicy>;

export const Pipeline = z
  .strictObject({
    description: z.string().optional(),
    environments: z
      .record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'environment names: lowercase'), Environment)
      .refine((envs) => Object.keys(envs).length > 0, 'declare at least one environment (e.g. staging and production)'),
    data: DataDependencies,
    training: Training,
    retry: z.strictObject({ maxAttempts: z.number().int().min(1).max(10).default(1) }).default({ maxAttempts: 1 }),
    /** How the run watches its Vertex job (see workflows/training-run.ts for the cost argument). */
    polling: z.strictObject({ interval: Duration.prefault('60s'), chunk: Duration.prefault('15m') }).prefault({}),
    segments: Segments.optional(),
    /** `ct train --all-segments`: one training run per segment, at most this many at once (Vertex's training quota). */
    fanOut: z.strictObject({ maxConcurrentRuns: z.number().int().min(1).max(1000).default(10) }).prefault({}),
    model: ModelPolicy.optional(),
    /** Batch prediction per segment with the pipeline's model (see config/prediction-config.ts). */
    prediction: Prediction.optional(),
    /** Online serving: each new champion rolled out to a Vertex Endpoint by canary steps (config/serving-config.ts). */
    serving: Serving.optional(),
    /** Temporal Schedules for this pipeline (`ct schedules sync --env E` reconciles them). */
    schedules: Schedules.optional(),
    /** Drift and quality alerts that ask for a retrain (config/alert-trigger-config.ts, docs/alert-triggers.md). */
    retrainOnAlert: RetrainOnAlert.optional(),
  })
  .superRefine((p, ctx) => {
    const promotion = p.model?.promotion;
    if (p.serving && !p.model?.registry)
      ctx.addIssue({
        code: 'custom',
        path: ['serving'],
        message: 'serving rolls out the model this pipeline registers: add a model: section',
      });
    for (const env of p.serving?.environments ?? []) {
      if (!(env in p.environments))
        ctx.addIssue({
          code: 'custom',
          path: ['serving', 'environments'],
          message: `unknown environment "${env}"; this pipeline has ${Object.keys(p.environments).join(', ')}`,
        });
    }
    if (p.prediction && !p.model)
      ctx.addIssue({
        code: 'custom',
        path: ['prediction'],
        message: 'prediction uses the model this pipeline registers: add a model: section',
      });
    if (p.prediction && !p.prediction.segments && !p.segments)
      ctx.addIssue({
        code: 'custom',
        path: ['prediction', 'segments'],
        message: 'give the segment matrix (countries × sns) to predict for',
      });
    if (p.prediction?.startOnModelReady && p.segments) {
      ctx.addIssue({
        code: 'custom',
        path: ['prediction', 'startOnModelReady'],
        message:
          'a pipeline that trains one model per segment has many model-readies per partition: start its prediction on a schedule or with ct predict',
      });
    }
    if (p.prediction?.startOnModelReady && p.prediction.partition !== p.data.partition) {
      ctx.addIssue({
        code: 'custom',
        path: ['prediction', 'startOnModelReady'],
        message: `a model trained on a ${p.data.partition} partition starts the prediction of that partition: prediction.partition must be ${p.data.partition} too`,
      });
    }
    for (const [name, sched] of Object.entries(p.schedules ?? {})) {
      for (const env of sched.environments ?? []) {
        if (!(env in p.environments))
          ctx.addIssue({
            code: 'custom',
            path: ['schedules', name, 'environments'],
            message: `unknown environment "${env}"; this pipeline has ${Object.keys(p.environments).join(', ')}`,
          });
      }
      if (sched.action === 'prediction' && !p.prediction)
        ctx.addIssue({
          code: 'custom',
          path: ['schedules', name, 'action'],
          message: 'this pipeline has no prediction: section to schedule',
        });
    }
    for (const env of p.retrainOnAlert?.environments ?? []) {
      if (!(env in p.environments))
        ctx.addIssue({
          code: 'custom',
          path: ['retrainOnAlert', 'environments'],
          message: `unknown environment "${env}"; this pipeline has ${Object.keys(p.environments).join(', ')}`,
        });
    }
    for (const env of promotion?.mode === 'approval' ? (promotion.environments ?? []) : []) {
      if (!(env in p.environments)) {
        ctx.addIssue({
          code: 'custom',
          path: ['model', 'promotion', 'environments'],
          message: `unknown environment "${env}"; this pipeline has ${Object.keys(p.environments).join(', ')}`,
        });
      }
    }
  });
export type Pipeline = z.output<typeof Pipeline>;

export const PipelineConfig = z
  .strictObject({
    version: z.literal(1),
    pipelines: z.record(
      z.string().regex(/^[a-z][a-z0-9-]{0,40}$/, 'pipeline names: lowercase, digits and -, at most 41'),
      Pipeline,
    ),
  })
  .superRefine((c, ctx) => {
    for (const { pipeline, dataset, message } of flagConflicts(c.pipelines))
      ctx.addIssue({ code: 'custom', path: ['pipelines', pipeline, 'data', 'flags', dataset], message });
  });
export type PipelineConfig = z.output<typeof PipelineConfig>;
