// Plans resolved once from the config by the planning activities, recorded in history and read by
// the workflows: they cross the workflow/activity boundary, so they live here.
import type { TrainingJobOutputs, TrainingJobRef } from './training-run';
import type { VertexJobProgress } from './vertex-job';
import type { Rates } from './cost';

/** Everything a run needs, resolved once from the config (and so recorded in history). */
export interface RunPlan {
  workflowId: string;
  pipeline: string;
  environment: string;
  partition: string;
  segment?: string;
  country?: string;
  sns?: string;
  project: string;
  region: string;
  serviceAccount: string;
  labels: Record<string, string>;
  datasets: string[];
  dataTimeoutMs: number;
  onDataTimeout: 'fail' | 'skip';
  maxAttempts: number;
  pollIntervalMs: number;
  pollChunkMs: number;
  training: PipelineJobPlan | CustomJobPlan;
  /**
   * Attempt n's job is `attempts[n - 1]`: its id and where its outputs land. Absent in plans
   * recorded before the plan held them (workflows/support/legacy-plans.ts).
   */
  attempts?: AttemptPlan[];
  model?: ModelPlan;
  /** The region's prices, for the run's own cost estimate (absent in runs planned before, or with no prices for the region). */
  rates?: Rates;
}

export interface AttemptPlan {
  /** The PipelineJob id, and the label a CustomJob is found by (contracts/vertex-naming.ts). */
  jobId: string;
  /** Where the job writes, read once it has SUCCEEDED. */
  outputs: TrainingJobOutputs;
}

export interface ModelPlan {
  metricsFile: string;
  thresholds: { metric: string; op: '>=' | '>' | '<=' | '<'; value: number }[];
  champion?: { metric: string; higherIsBetter: boolean; minImprovement: number };
  modelId: string;
  displayName: string;
  servingImage: string;
  labels: Record<string, string>;
  uploadTimeoutMs: number;
  /** Resolved for this run's environment: approval applies only where the config asks for it. */
  promotion: { mode: 'direct' } | { mode: 'approval'; timeoutMs: number; onTimeout: 'reject' | 'promote' };
  manifestUri?: string;
  flagUri?: string;
}

export interface PipelineJobPlan {
  kind: 'pipelineJob';
  displayName: string;
  pipelineSpecUri: string;
  /** The spec is read again at submit; a changed spec fails the run rather than train on it silently. */
  specSha256: string;
  pipelineRoot: string;
  parameterValues: Record<string, unknown>;
  enableCaching?: boolean;
}

export interface CustomJobPlan {
  kind: 'customJob';
  displayName: string;
  baseOutputDirectory: string;
  workerPoolSpecs: {
    machineType: string;
    replicaCount: number;
    imageUri: string;
    command?: string[];
    args?: string[];
    acceleratorType?: string;
    acceleratorCount?: number;
  }[];
}

export interface SubmitRequest {
  plan: RunPlan;
  attempt: number;
  /** Deterministic per run and attempt: the PipelineJob id, and the label a CustomJob is found by. */
  jobId: string;
}

export type JobProgress = VertexJobProgress<TrainingJobRef>;
