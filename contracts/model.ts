import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { Partition } from './partition';

// The model side of the contracts: approving a candidate, the model-ready announcement, and the
// consumer that waits for a model (a prediction run, an Airflow sensor, a person's script).

/** Who decided and why: kept in the run's history, its result and the UI. */
export const ApprovalArgs = z.strictObject({
  by: z.string().trim().min(1, 'say who decides (--by)').max(120),
  reason: z.string().trim().max(1000).optional(),
});
export type ApprovalArgs = z.infer<typeof ApprovalArgs>;

export interface ApprovalDecision {
  decision: 'approved' | 'rejected' | 'timed-out';
  by?: string;
  reason?: string;
  at: string;
}

export interface ApprovalAck {
  workflowId: string;
  decision: ApprovalDecision['decision'];
  /** The version the decision is about, as `model@version`. */
  modelVersion: string;
}

export const approveUpdate = defineUpdate<ApprovalAck, [ApprovalArgs]>('approve');
export const rejectUpdate = defineUpdate<ApprovalAck, [ApprovalArgs]>('reject');

/** The validator's check, shared with the client: a reject must say why. */
export function checkApproval(raw: unknown, decision: 'approve' | 'reject'): ApprovalArgs {
  const parsed = ApprovalArgs.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid ${decision}: ${z.prettifyError(parsed.error)}`);
  if (decision === 'reject' && !parsed.data.reason) throw new Error('a reject must say why (--reason)');
  return parsed.data;
}

/** Which model a consumer waits for: one per environment, pipeline and segment. */
export const modelKey = (m: { environment: string; pipeline: string; segment?: string | null }) =>
  `${m.environment}/${m.pipeline}/${m.segment ?? 'all'}`;

/** What a promoted model is announced with: the signal's payload and the GCS manifest's content. */
export const ModelReady = z.object({
  environment: z.string(),
  pipeline: z.string(),
  segment: z.string().nullable(),
  /** The model's resource name (no @version) and the version promoted to champion. */
  model: z.string(),
  version: z.string(),
  modelVersionName: z.string(),
  aliases: z.array(z.string()),
  metrics: z.record(z.string(), z.number()),
  partition: z.string(),
  trainedAt: z.string(),
  trainingJob: z.string().optional(),
  workflowId: z.string().optional(),
  runId: z.string().optional(),
  manifestUri: z.string().optional(),
});
export type ModelReady = z.infer<typeof ModelReady>;
export const modelReadySignal = defineSignal<[ModelReady]>('modelReady');

const DurationText = z.string().regex(/^[0-9]+(ms|s|m|h|d)$/, 'a duration like 90s, 30m, 6h or 2d');

export const waitForModelWorkflowType = 'waitForModel';
export const WaitForModelInput = z.strictObject({
  environment: z.string().min(1).max(64),
  pipeline: z.string().min(1).max(64),
  segment: z.string().min(1).max(64).optional(),
  /** A model is fresh enough when it was trained on this partition or a later one… */
  minPartition: Partition.optional(),
  /** …and/or registered after this time (ISO 8601). Without either, the current champion will do. */
  trainedAfter: z.iso.datetime({ offset: true }).optional(),
  /** How long to wait before failing with the reason. */
  timeout: DurationText.default('1d'),
  /**
   * How often to look at the registry while waiting, in case an announcement was missed (the
   * consumer was not yet findable when the model was promoted). Each look is one activity.
   */
  recheckEvery: DurationText.default('1h'),
});
export type WaitForModelInput = z.input<typeof WaitForModelInput>;

export interface WaitForModelResult extends ModelReady {
  /** registry: the champion was already fresh enough; announcement: a training run told us. */
  source: 'registry' | 'announcement';
}

export interface ModelWaitStatus {
  waitingFor: string;
  minPartition?: string;
  trainedAfter?: string;
  /** The champion as last seen in the registry (too old, or none). */
  champion?: { version: string; partition?: string; trainedAt?: string } | null;
}
export const modelWaitStatusQuery = defineQuery<ModelWaitStatus>('status');

export function isFreshEnough(
  m: { partition?: string; trainedAt?: string },
  bound: { minPartition?: string; trainedAfter?: string },
): boolean {
  // Partitions of one pipeline share a format (2026-11-21, 2026-11, 2026-11-21T07): text order is time order.
  if (bound.minPartition && !(m.partition && m.partition >= bound.minPartition)) return false;
  if (bound.trainedAfter && !(m.trainedAt && Date.parse(m.trainedAt) > Date.parse(bound.trainedAfter))) return false;
  return true;
}

/** 2000 → "2s", 5400000 → "90m", 259200000 → "3d": the largest unit that divides evenly. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
