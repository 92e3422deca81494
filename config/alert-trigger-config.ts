import { z } from 'zod';
import { TimeZone } from './primitives';

// Drift and quality alerts as retrain requests (docs/alert-triggers.md): a pipeline's
// `retrainOnAlert:` section and the labels an alert names its run with. The receiver's own
// settings are in config/alert-receiver-env.ts.

/**
 * A pipeline that takes retrain requests from alerts. The window of a request is one partition of
 * the pipeline: the one holding the incident's start in `partition.timezone`, moved by
 * `partition.offset` partitions. Its retrain is that partition's one run, so incidents in one
 * window share one run with whoever else starts that partition (Airflow, a schedule, an operator).
 */
export const RetrainOnAlert = z.strictObject({
  partition: z
    .strictObject({
      /** Partition units from the one holding the incident's start (-1: the one before, whose data has landed). */
      offset: z.number().int().min(-366).max(366).default(0),
      timezone: TimeZone.default('UTC'),
    })
    .prefault({}),
  /** Start the run without waiting for its datasets' data-ready (the window's data is known to be there). */
  assumeDataReady: z.boolean().default(false),
  /** Environments whose incidents may start a retrain; all of the pipeline's when omitted. */
  environments: z.array(z.string().min(1)).min(1).optional(),
});
export type RetrainOnAlert = z.output<typeof RetrainOnAlert>;

/**
 * The alert labels that name the run, looked up on the alerting policy (policy_user_labels), then
 * the incident's own labels, then the metric's. Label keys and values in Cloud Monitoring are
 * lowercase letters, digits, `_` and `-`, which pipeline, segment and environment names all are.
 */
export const ALERT_LABELS = { pipeline: 'ct_pipeline', segment: 'ct_segment', environment: 'ct_environment' } as const;
