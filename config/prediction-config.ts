import { z } from 'zod';
import { Duration, GcsUri, PartitionFormat, Segments, template } from './primitives';

// Batch prediction per segment (country × SNS) with the pipeline's registered model: the matrix,
// where each segment's instances are and where its predictions go, the machine, the quota, and
// what a partial failure means.

const BigQueryUri = template(
  z.string().regex(/^bq:\/\/[a-z{][a-z0-9{}-]*(\.[A-Za-z0-9_{}-]+){1,2}$/, 'must be bq://project.dataset[.table]'),
);

export const Prediction = z.strictObject({
  /** The prediction cadence's partition format (may differ from training's, e.g. daily vs monthly). */
  partition: PartitionFormat.default('daily'),
  /** The segments to predict for; the training segments when omitted. */
  segments: Segments.optional(),
  /** Instances per segment: a gs:// URI (wildcards allowed) or a BigQuery table. */
  input: z.strictObject({
    uri: z.union([GcsUri, BigQueryUri]),
    format: z.enum(['jsonl', 'csv', 'bigquery', 'file-list', 'tf-record']).default('jsonl'),
  }),
  /** Where predictions go: a gs:// prefix or a BigQuery project/dataset. */
  output: z.strictObject({
    uri: z.union([GcsUri, BigQueryUri]),
    format: z.enum(['jsonl', 'csv', 'bigquery']).default('jsonl'),
  }),
  machine: z
    .strictObject({
      machineType: z.string().min(1).default('n1-standard-4'),
      startingReplicaCount: z.number().int().min(1).default(1),
      maxReplicaCount: z.number().int().min(1).default(1),
    })
    .prefault({}),
  /** Vertex's quota on jobs running at once in the project and region. */
  maxConcurrentJobs: z.number().int().min(1).max(1000).default(10),
  /**
   * Job creations per minute (Vertex allows ~60 per region). Enforced by the server: creates go
   * through a task queue per project and region whose activity rate limit all workers share.
   */
  createsPerMinute: z.number().int().min(1).max(600).default(60),
  /**
   * Children one workflow run starts before it drains and continues as new. A child costs the
   * parent ~6 events with its workflow tasks (bench:prediction: ≤ 1,472 per run of 250), so 1,000
   * keeps a generation under Temporal's 10,240-event warning.
   */
  childrenPerRun: z.number().int().min(1).max(1000).default(250),
  /** continue: the other segments finish; fail-fast: the first failure cancels the rest. */
  onFailure: z.enum(['continue', 'fail-fast']).default('continue'),
  /** A job where some instances failed: count it as succeeded (errors file kept) or failed. */
  partiallySucceeded: z.enum(['succeeded', 'failed']).default('succeeded'),
  model: z
    .strictObject({
      /** Use the current champion only if it was registered within this long; otherwise wait for model-ready. */
      maxAge: Duration.optional(),
      /** How long to wait for a fresh enough model before the segment fails with the reason. */
      waitTimeout: Duration.prefault('1d'),
    })
    .prefault({}),
  /** A training run's model-ready starts the prediction run of the same partition. */
  startOnModelReady: z.boolean().default(false),
  /** The run's summary (per segment: state, job, output, counts, error) as JSON. */
  summary: GcsUri,
});
export type Prediction = z.output<typeof Prediction>;
