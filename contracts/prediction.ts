import { defineQuery } from '@temporalio/workflow';
import { z } from 'zod';
import { Partition } from './partition';
import type { RunCost } from './cost';

// Batch prediction: the parent run per (environment, pipeline, partition), one child per segment,
// the per-segment result and the run's summary.

export const predictionRunWorkflowType = 'predictionRun';
export const predictionSegmentWorkflowType = 'predictionSegment';

const Name = z.string().regex(/^[a-z][a-z0-9-]{0,40}$/, 'lowercase letters, digits and -');
const Segment = z.string().regex(/^[a-z]{2}-[a-z][a-z0-9]*$/, 'a segment like jp-instagram (country-sns, lowercase)');

export const PredictionRunInput = z.strictObject({
  pipeline: Name,
  environment: Name,
  partition: Partition,
  /** Only these segments (default: the whole matrix). */
  segments: z.array(Segment).min(1).optional(),
  /**
   * Re-run only the segments that did not succeed in this partition's previous run (its summary in
   * GCS); the successful ones are carried over into this run's summary, and nothing starts for them.
   */
  retryFailed: z.boolean().optional(),
});
export type PredictionRunInput = z.input<typeof PredictionRunInput>;

export const predictionRunId = (r: { environment: string; pipeline: string; partition: string }) =>
  `prediction:${r.environment}:${r.pipeline}:${r.partition}`;
export const predictionSegmentId = (r: { environment: string; pipeline: string; partition: string; segment: string }) =>
  `${predictionRunId(r)}:${r.segment}`;

/** A child of predictionRun; also typeable in the UI to re-run one segment by hand. */
export const PredictionSegmentInput = z.strictObject({
  environment: Name,
  pipeline: Name,
  partition: Partition,
  segment: Segment,
  /** The model version (model@version) the run pinned: the segment predicts with it and looks nothing up. */
  model: z
    .string()
    .regex(
      /^projects\/[^/]+\/locations\/[^/]+\/models\/[^/@]+@[^/@]+$/,
      'must be a model version name (projects/…/models/ID@VERSION)',
    )
    .optional(),
});
export type PredictionSegmentInput = z.input<typeof PredictionSegmentInput>;

/** How one segment ended. `reused`: succeeded in an earlier run of the partition; nothing ran now. */
export type SegmentOutcome = 'succeeded' | 'failed' | 'cancelled' | 'reused';

export interface SegmentResult {
  segment: string;
  outcome: SegmentOutcome;
  /** The Vertex job's final state (SUCCEEDED, PARTIALLY_SUCCEEDED, FAILED, …), if a job ran. */
  state?: string;
  job?: string;
  consoleUrl?: string;
  /** The model version it predicted with, as model@version. */
  model?: string;
  outputUri?: string;
  counts?: { successful: number; failed: number; incomplete: number };
  error?: string;
  /** What the run cost so far (workflows/interceptors/run-cost.ts adds it). */
  cost?: RunCost;
}

export interface PredictionProgress {
  total: number;
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  reused: number;
  /** What the run cost so far (workflows/interceptors/run-cost.ts adds it). */
  cost?: RunCost;
}

export interface PredictionSummary {
  environment: string;
  pipeline: string;
  partition: string;
  /** succeeded: every segment; partial: some failed (policy continue); failed: fail-fast stopped it. */
  verdict: 'succeeded' | 'partial' | 'failed' | 'cancelled';
  progress: PredictionProgress;
  segments: SegmentResult[];
  summaryUri: string;
  startedAt: string;
  endedAt: string;
  /**
   * The one model version (model@version) the run pinned for every segment it ran, when one model
   * serves them all (`reused` segments keep the version they ran with). Absent when each segment
   * has a model of its own, or no segment found a model.
   */
  model?: string;
  /** Runs of this workflow (continue-as-new generations) it took. */
  generations: number;
  /** What the run cost so far (workflows/interceptors/run-cost.ts adds it). */
  cost?: RunCost;
}

export const predictionProgressQuery = defineQuery<PredictionProgress>('progress');
