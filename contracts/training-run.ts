import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import type { ApprovalDecision } from './model';
import { Partition } from './partition';
import type { RunCost } from './cost';

// The training run's contract: input (small enough to type in the UI's Start Workflow form), the
// data-ready Update Airflow sends, the status query, and the result the next steps build on.

export const trainingRunWorkflowType = 'trainingRun';
/** The workflow's signature, so runs are started by type name without importing workflow code. */
export type TrainingRunWorkflow = (input: TrainingRunInput) => Promise<TrainingRunResult>;

const Name = z.string().regex(/^[a-z][a-z0-9-]{0,40}$/, 'lowercase letters, digits and -');

export const TrainingRunInput = z.strictObject({
  pipeline: Name,
  environment: Name,
  /** The data partition, in the pipeline's format (daily 2026-11-21, hourly 2026-11-21T07, monthly 2026-11). */
  partition: Partition,
  /** Country and SNS, e.g. "jp-instagram", for a pipeline with segments. */
  segment: z
    .string()
    .regex(/^[a-z]{2}-[a-z][a-z0-9]*$/, 'a segment like jp-instagram (country-sns, lowercase)')
    .optional(),
  /** Overrides of the pipeline's parameter values, checked against the compiled spec. */
  parameters: z.record(z.string(), z.json()).optional(),
  /** Start without waiting for data-ready (an operator who knows the data is there). */
  assumeDataReady: z.boolean().optional(),
});
export type TrainingRunInput = z.input<typeof TrainingRunInput>;

/** The one workflow id per (environment, pipeline, segment, partition): whoever fires first starts it. */
export function trainingRunId(run: {
  environment: string;
  pipeline: string;
  segment?: string;
  partition: string;
}): string {
  return `training:${run.environment}:${run.pipeline}:${run.segment ?? 'all'}:${run.partition}`;
}

export const DataReadyArgs = z.strictObject({
  dataset: z.string().min(1).max(200),
  partition: Partition,
  uri: z.string().max(2048).optional(),
  /** Who said so (e.g. "airflow:dag_id.task_id"), for the status and the audit trail. */
  source: z.string().max(200).optional(),
});
export type DataReadyArgs = z.infer<typeof DataReadyArgs>;

export interface DataReadyAck {
  workflowId: string;
  /** False when this dataset was already ready (a duplicate signal changes nothing). */
  accepted: boolean;
  waitingFor: string[];
  phase: TrainingPhase;
}
export const dataReadyUpdate = defineUpdate<DataReadyAck, [DataReadyArgs]>('dataReady');

export type TrainingPhase =
  | 'resolving'
  | 'waiting-for-data'
  | 'submitting'
  | 'running'
  | 'cancelling'
  | 'evaluating'
  | 'registering'
  | 'awaiting-approval'
  | 'rejected'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'cancelled';

export interface TrainingJobRef {
  kind: 'pipelineJob' | 'customJob';
  /** The resource name as Vertex returned it (with the project number). */
  name: string;
  id: string;
  attempt: number;
  consoleUrl: string;
  state?: string;
  /** Vertex's create_time (RFC 3339): where the coalesced watch's listing starts. */
  createTime?: string;
  /** The label that finds this attempt's job again (server-made ids only): see activities/vertex/duplicates.ts. */
  findBy?: JobLabel;
  /**
   * Set when a retried submit made or found the job (an earlier try's create may still land): the
   * watch sweeps the label for late twins until then (RFC 3339), even after this job has ended.
   */
  twinsUntil?: string;
}

/**
 * The memo a training run keeps of its current attempt's Vertex job (key `vertexJob`): the server
 * holds it, so `ct status` can name the job when no worker answers the run's status query.
 */
export const vertexJobMemoKey = 'vertexJob';
export type VertexJobMemo = Pick<TrainingJobRef, 'kind' | 'name' | 'attempt' | 'consoleUrl'>;

export interface JobLabel {
  key: string;
  value: string;
}

export interface DatasetStatus {
  dataset: string;
  ready: boolean;
  uri?: string;
  at?: string;
  source?: string;
}

export interface TrainingRunStatus {
  phase: TrainingPhase;
  pipeline: string;
  environment: string;
  partition: string;
  segment?: string;
  datasets: DatasetStatus[];
  job?: TrainingJobRef;
  attempts: { attempt: number; jobName: string; state: string; error?: string }[];
  reason?: string;
  gate?: GateResult;
  model?: ModelResult;
  approval?: ApprovalDecision;
  /** What the run cost so far (workflows/interceptors/run-cost.ts adds it). */
  cost?: RunCost;
}
/** The model gate's verdict (workflows/support/model-gate.ts), as the run's result and status show it. */
export interface GateResult {
  passed: boolean;
  /** Why it failed, in one line an operator can act on. */
  reason?: string;
  checks: GateCheck[];
}

export interface GateCheck {
  check: string;
  metric: string;
  candidate: number | null;
  /** The threshold or the bar the champion sets; null when there is no champion yet. */
  against: number | null;
  passed: boolean;
}

export interface ModelResult {
  name: string;
  version: string;
  aliases: string[];
  consoleUrl: string;
  manifestUri?: string;
  /** How many waiting consumers were told (signalled) that this model is ready. */
  consumersTold?: number;
  /** The prediction run this model-ready started (config: prediction.startOnModelReady). */
  predictionStarted?: string;
  /** Why nothing was announced: another run had promoted a newer version by the time this one announced. */
  superseded?: string;
}

export const trainingStatusQuery = defineQuery<TrainingRunStatus>('status');

export interface TrainingJobOutputs {
  /** Where the job wrote its outputs (pipeline root/{job id}, or the CustomJob base directory). */
  outputDirectory: string;
  metricsUri: string;
  modelDirectory: string;
}

export interface TrainingRunResult {
  /**
   * delegated: this workflow was started under another id and handed over to the run's own id.
   * rejected: trained, but the evaluation gate refused the model (see `gate`); not an error.
   */
  status: 'succeeded' | 'skipped' | 'delegated' | 'rejected';
  delegatedTo?: string;
  reason?: string;
  pipeline: string;
  environment: string;
  partition: string;
  segment?: string;
  job?: TrainingJobRef & { state: string };
  outputs?: TrainingJobOutputs;
  gate?: GateResult;
  model?: ModelResult;
  /** Set when the pipeline promotes only after a person approves. */
  approval?: ApprovalDecision;
  timings: {
    startedAt: string;
    dataReadyAt?: string;
    submittedAt?: string;
    jobStartedAt?: string;
    jobEndedAt?: string;
    endedAt: string;
  };
  attempts: number;
  /** What the run cost so far (workflows/interceptors/run-cost.ts adds it). */
  cost?: RunCost;
}

/** The Update validator's check: rejected data-ready never reaches the workflow's history. */
export function checkDataReady(raw: unknown, partition: string): DataReadyArgs {
  const parsed = DataReadyArgs.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid data-ready: ${z.prettifyError(parsed.error)}`);
  if (parsed.data.partition !== partition)
    throw new Error(`partition: this run is for partition ${partition}, not ${parsed.data.partition}`);
  return parsed.data;
}

// Data-ready as a workflow, for callers that do not read the pipeline config themselves (Airflow's
// Python side): the worker, which owns the config, finds the runs and reports back.
export const routeDataReadyWorkflowType = 'routeDataReady';
export const RouteDataReadyInput = DataReadyArgs.extend({ environment: Name });
export type RouteDataReadyInput = z.infer<typeof RouteDataReadyInput>;
export const routeDataReadyId = (r: Pick<RouteDataReadyInput, 'environment' | 'dataset' | 'partition'>) =>
  `data-ready:${r.environment}:${r.dataset}:${r.partition}`;

export interface DataReadyReport {
  dataset: string;
  partition: string;
  reached: (DataReadyAck & { pipeline: string; segment?: string })[];
  /** Runs of this partition that already finished: data-ready starts nothing for them. */
  finished: { workflowId: string; pipeline: string; segment?: string }[];
}

// Training every segment of a partition (the same sliding window as batch prediction).
export const trainingFanoutWorkflowType = 'trainingFanout';
export const TrainingFanoutInput = z.strictObject({
  pipeline: Name,
  environment: Name,
  partition: Partition,
  /** Only these segments (default: all the pipeline trains). */
  segments: z
    .array(z.string().regex(/^[a-z]{2}-[a-z][a-z0-9]*$/))
    .min(1)
    .optional(),
  assumeDataReady: z.boolean().optional(),
});
export type TrainingFanoutInput = z.input<typeof TrainingFanoutInput>;
export const trainingFanoutId = (r: { environment: string; pipeline: string; partition: string }) =>
  `training-fanout:${r.environment}:${r.pipeline}:${r.partition}`;

export interface TrainingFanoutResult {
  verdict: 'succeeded' | 'partial' | 'cancelled';
  runs: {
    segment: string;
    workflowId: string;
    outcome: TrainingRunResult['status'] | 'running' | 'failed' | 'cancelled' | 'already-started';
    reason?: string;
    model?: string;
  }[];
  /** What the fan-out and its runs cost (workflows/interceptors/run-cost.ts adds it). */
  cost?: RunCost;
}
