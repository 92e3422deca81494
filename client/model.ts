import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import { checkRunIdentity, modelOf } from '../config/runs';
import type { PipelineConfig } from '../config/pipeline-config';
import {
  approveUpdate,
  checkApproval,
  modelKey,
  rejectUpdate,
  trainingRunId,
  WaitForModelInput,
  waitForModelWorkflowType,
  type ApprovalAck,
} from '../contracts';
import type { trainingRun, waitForModel } from '../workflows';
import { parseRequest, refuse, TrainingRequestError } from './request';
import type { RunOptions } from './training';

// Deciding on a candidate (approve / reject) and waiting for a model, for the CLI and for scripts.

// Types only: the config check that follows says what is wrong with the values, naming the field.
const RunIdentity = z.object({
  pipeline: z.string(),
  environment: z.string(),
  partition: z.string(),
  segment: z.string().optional(),
});
type RunIdentity = z.input<typeof RunIdentity>;

/**
 * Approves or rejects the candidate of a run that waits for approval. The run's Update validator
 * has the last word (not waiting, already decided): its reason comes back as the error.
 */
export async function decideCandidate(
  client: Client,
  config: PipelineConfig,
  run: RunIdentity,
  decision: 'approve' | 'reject',
  raw: unknown,
): Promise<ApprovalAck> {
  let args;
  try {
    const identity = RunIdentity.safeParse(run);
    if (!identity.success) throw new Error(`invalid run:\n${z.prettifyError(identity.error)}`);
    checkRunIdentity(config, identity.data);
    args = checkApproval(raw, decision);
  } catch (err) {
    // Both are the caller's mistake, said in words (unknown pipeline, a reject without a reason).
    throw new TrainingRequestError(err instanceof Error ? err.message : String(err));
  }
  const handle = client.workflow.getHandle<typeof trainingRun>(trainingRunId(run));
  try {
    return await handle.executeUpdate(decision === 'approve' ? approveUpdate : rejectUpdate, { args: [args] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError)
      throw new TrainingRequestError(`${decision} refused: ${err.cause?.message ?? err.message}`);
    if (err instanceof WorkflowNotFoundError)
      throw new TrainingRequestError(`${decision} refused: ${await whyNotOpen(handle)}`);
    throw err;
  }
}

/** An Update cannot reach a closed run: say how it ended (and who decided), not just "not found". */
async function whyNotOpen(handle: WorkflowHandle<typeof trainingRun>): Promise<string> {
  let described;
  try {
    described = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return `there is no run ${handle.workflowId}`;
    throw err;
  }
  if (described.status.name !== 'COMPLETED')
    return `run ${handle.workflowId} has finished: ${described.status.name.toLowerCase()}`;
  const result = await handle.result();
  const a = result.approval;
  return `run ${handle.workflowId} has finished: ${result.status}${a ? `; its candidate was ${a.decision}${a.by ? ` by ${a.by}` : ''} at ${a.at}` : result.reason ? ` (${result.reason})` : ''}`;
}

/** Starts a consumer that returns once a model fresh enough is the champion (see workflows/wait-for-model.ts). */
export async function startWaitForModel(
  client: Client,
  config: PipelineConfig,
  raw: unknown,
  opts: Pick<RunOptions, 'taskQueue'> & { workflowId?: string } = {},
): Promise<WorkflowHandle<typeof waitForModel>> {
  const input = parseRequest(WaitForModelInput, raw, 'model wait');
  let env;
  try {
    ({ env } = modelOf(config, input));
  } catch (err) {
    refuse(err);
  }
  return client.workflow.start<typeof waitForModel>(waitForModelWorkflowType, {
    workflowId: opts.workflowId ?? `model-wait:${modelKey(input).replace(/\//g, ':')}:${randomUUID().slice(0, 8)}`,
    taskQueue: opts.taskQueue ?? env.temporal.taskQueue,
    args: [input],
    staticSummary: `Waiting for a model · ${modelKey(input)}`,
  });
}
