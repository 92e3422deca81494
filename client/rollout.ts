import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { PipelineConfig } from '../config/pipeline-config';
import {
  approveStepUpdate,
  checkApproval,
  RolloutInput,
  rolloutId,
  rolloutStatusQuery,
  type RolloutStatus,
} from '../contracts';
import { startRollout } from '../starts/rollout';
import { parseRequest, refuse, TrainingRequestError } from './request';

// Rollouts by hand: start one for a registered version, read where it is, approve its next step,
// cancel it (a cancel is a rollback to the split from before it).

const Target = RolloutInput.pick({ pipeline: true, environment: true, segment: true });

/** Starts the endpoint target's rollout with this version, or tells the one in flight about it. */
export async function startRolloutRequest(client: Client, config: PipelineConfig, raw: unknown) {
  const input = parseRequest(RolloutInput, raw, 'rollout');
  return startRollout(client, config, input).catch(refuse);
}

function handleOf(client: Client, raw: unknown) {
  const target = parseRequest(Target, raw, 'rollout target');
  return client.workflow.getHandle(rolloutId(target));
}

const notFound = (err: unknown, id: string): never => {
  if (err instanceof WorkflowNotFoundError) throw new TrainingRequestError(`no rollout ${id}`);
  throw err;
};

export async function rolloutStatus(client: Client, raw: unknown): Promise<RolloutStatus & { workflowId: string }> {
  const handle = handleOf(client, raw);
  const status = await handle.query(rolloutStatusQuery).catch((err: unknown) => notFound(err, handle.workflowId));
  return { workflowId: handle.workflowId, ...status };
}

export async function approveRolloutStep(client: Client, raw: unknown, args: unknown) {
  const handle = handleOf(client, raw);
  const checked = (() => {
    try {
      return checkApproval(args, 'approve');
    } catch (err) {
      throw new TrainingRequestError((err as Error).message);
    }
  })();
  return handle.executeUpdate(approveStepUpdate, { args: [checked] }).catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError) return notFound(err, handle.workflowId);
    throw new TrainingRequestError(
      `${handle.workflowId}: ${(err as Error).cause ? ((err as Error).cause as Error).message : (err as Error).message}`,
    );
  });
}

export async function cancelRollout(client: Client, raw: unknown): Promise<{ workflowId: string }> {
  const handle = handleOf(client, raw);
  await handle.cancel().catch((err: unknown) => notFound(err, handle.workflowId));
  return { workflowId: handle.workflowId };
}
