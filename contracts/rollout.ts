import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { type ApprovalArgs, modelKey } from './model';

// Rolling a champion out to a Vertex Endpoint: the workflow's input, its status, the step approval,
// and the signal that tells a rollout in flight that a newer champion was promoted.

export const modelRolloutWorkflowType = 'modelRollout';

export const RolloutInput = z.strictObject({
  pipeline: z.string().min(1),
  environment: z.string().min(1),
  segment: z.string().min(1).nullish(),
  /** The Model Registry version to serve (the model is the pipeline's registry model). */
  version: z.string().regex(/^[1-9][0-9]*$/, 'a Model Registry version id, e.g. 3'),
  /** Why: a promotion (the training run that promoted it) or an operator (`ct rollout start`). */
  startedBy: z.string().min(1).max(200).default('operator'),
});
export type RolloutInput = z.output<typeof RolloutInput>;

/** One rollout per endpoint target at a time: a newer champion reaches the one in flight (see workflows/model-rollout.ts). */
export const rolloutId = (r: { environment: string; pipeline: string; segment?: string | null }) =>
  `rollout:${modelKey(r).replace(/\//g, ':')}`;

export const newChampionSignal = defineSignal<[{ version: string; startedBy: string }]>('newChampion');

export type RolloutPhase =
  | 'planning'
  | 'deploying'
  | 'smoke'
  | 'awaiting-approval'
  | 'canary'
  | 'holding'
  | 'rolling-back'
  | 'done'
  | 'rolled-back'
  | 'superseded';

/** One read of the candidate's and the previous model's health over the step so far. */
export interface HealthFigures {
  at: string;
  candidate: { predictions: number; errors: number; p95LatencyMs: number | null };
  previous?: { predictions: number; errors: number; p95LatencyMs: number | null };
}

export interface RolloutStatus {
  phase: RolloutPhase;
  model: string;
  version: string;
  endpoint?: string;
  /** DeployedModel id → percent, as last set. */
  split: Record<string, number>;
  /** The split before the rollout moved any traffic: what a rollback restores. */
  splitBefore?: Record<string, number>;
  candidateDeployedModelId?: string;
  step?: { index: number; percent: number; startedAt: string };
  health?: HealthFigures;
  /** Why the rollout rolled back (or would, for health that could not be read). */
  reason?: string;
  consoleUrl?: string;
  cost?: RolloutCost;
}

export const rolloutStatusQuery = defineQuery<RolloutStatus>('status');

/**
 * What the models this rollout deployed cost while it ran (the smoke deployment, and the candidate
 * until it was undeployed or the rollout ended; after that its node-hours are the endpoint's
 * running cost): machine × min replicas × hours deployed. usd null: no price for the machine.
 */
export interface RolloutCost {
  nodeHours: number;
  usd: number | null;
}

export interface RolloutResult {
  outcome: 'done' | 'rolled-back' | 'superseded';
  cost: RolloutCost;
  version: string;
  endpoint: string;
  split: Record<string, number>;
  reason?: string;
}

/** A person lets the rollout take its next step (when serving.approveEachStep). */
export const approveStepUpdate = defineUpdate<{ step: number; percent: number }, [ApprovalArgs]>('approveStep');
