import { defineQuery, defineSignal } from '@temporalio/workflow';
import { z } from 'zod';

// `stackCheck` proves a deployment end to end: a worker polls the task queue, its activities
// reach GCS with the credentials they will use for real work, and signals and cancellation
// reach the workflow. Operators run it after a deploy; the smoke tests run it on every `npm test`.

export const stackCheckWorkflowType = 'stackCheck';

export const StackCheckInput = z.strictObject({
  bucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/, 'must be a GCS bucket name (lowercase letters, digits, - _ .)'),
  objectPrefix: z.string().max(512).default('ct-coordinator/stack-check'),
  /** How long to hold, waiting for the `release` signal, before finishing on its own. */
  holdSeconds: z.number().int().min(0).max(86_400).default(0),
});
export type StackCheckInput = z.input<typeof StackCheckInput>;

export const ReleaseSignalArgs = z.strictObject({ by: z.string().min(1).max(200) });
export type ReleaseSignalArgs = z.infer<typeof ReleaseSignalArgs>;

export const releaseSignal = defineSignal<[ReleaseSignalArgs]>('release');

export type StackCheckPhase = 'writing' | 'reading' | 'holding' | 'cleaning-up' | 'done';
export interface StackCheckStatus {
  phase: StackCheckPhase;
  objectUri?: string;
  releasedBy?: string;
}
export const statusQuery = defineQuery<StackCheckStatus>('status');

export interface StackCheckResult {
  objectUri: string;
  bytes: number;
  /** Who released the hold, or null when it ran out (or there was none). */
  releasedBy: string | null;
}
