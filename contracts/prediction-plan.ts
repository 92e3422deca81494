// A prediction run's and a segment's plans and the segment's job, as the planning and batch-job
// activities return them to the workflows.
import type { SegmentResult } from './prediction';
import type { JobLabel } from './training-run';
import type { VertexJobProgress } from './vertex-job';
import type { Rates } from './cost';

/** One segment's batch prediction, resolved from the config once (and so recorded in history). */
export interface SegmentPlan {
  workflowId: string;
  environment: string;
  pipeline: string;
  partition: string;
  segment: string;
  project: string;
  region: string;
  serviceAccount: string;
  /** The registered model this segment predicts with, and the key its model-ready is announced under. */
  model: { project: string; region: string; modelId: string };
  modelKey: { environment: string; pipeline: string; segment?: string };
  maxAgeMs?: number;
  waitTimeoutMs: number;
  job: {
    displayName: string;
    labels: Record<string, string>;
    input: { uri: string; format: string };
    output: { uri: string; format: string };
    machine: { machineType: string; startingReplicaCount: number; maxReplicaCount: number };
  };
  partiallySucceeded: 'succeeded' | 'failed';
  pollIntervalMs: number;
  pollChunkMs: number;
  /** The region's prices, for the segment's own cost estimate (absent in runs planned before, or with no prices for the region). */
  rates?: Rates;
}

export interface PredictionPlan {
  segments: string[];
  summaryUri: string;
  maxConcurrentJobs: number;
  onFailure: 'continue' | 'fail-fast';
  /** Children per workflow run before it continues as new (absent in runs planned before it was a knob). */
  childrenPerRun?: number;
  /** The one model every segment predicts with, when the pipeline does not train per segment: the run pins its version. */
  sharedModel?: { project: string; region: string; modelId: string };
  /** With model.maxAge: how recently the model must have been registered. */
  maxAgeMs?: number;
  /** With retryFailed: the previous run's successful segments, carried over as `reused`. */
  reused: SegmentResult[];
  /** The region's prices, for the run's own cost (absent in runs planned before). */
  rates?: Rates;
}

export interface BatchJobRef {
  name: string;
  id: string;
  consoleUrl: string;
  state?: string;
  /** Vertex's create_time (RFC 3339): where the coalesced watch's listing starts. */
  createTime?: string;
  /** The label that finds this segment run's job again: see activities/vertex/duplicates.ts. */
  findBy?: JobLabel;
  /**
   * Set when a retried submit made or found the job (an earlier try's create may still land): the
   * watch sweeps the label for late twins until then (RFC 3339), even after this job has ended.
   */
  twinsUntil?: string;
}

export interface BatchProgress extends VertexJobProgress<BatchJobRef> {
  outputUri?: string;
  counts?: { successful: number; failed: number; incomplete: number };
}
