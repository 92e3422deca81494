import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { predictionOf, unknownSegments } from '../config/runs';
import type { PipelineConfig } from '../config/pipeline-config';
import { predictionRunId, PredictionRunInput, predictionRunWorkflowType } from '../contracts';
import type { predictionRun } from '../workflows';
import { parseRequest, TrainingRequestError } from './request';
import type { RunOptions } from './training';

// Starting a prediction run (operators, schedules, a training run's model-ready), checked against
// the config first so bad input never reaches a workflow.

export async function startPredictionRun(
  client: Client,
  config: PipelineConfig,
  raw: unknown,
  opts: RunOptions = {},
): Promise<WorkflowHandle<typeof predictionRun>> {
  const input = parseRequest(PredictionRunInput, raw, 'prediction run');
  let env;
  try {
    const found = predictionOf(config, input);
    const unknown = (input.segments ?? []).filter((s) => !found.matrix.includes(s));
    if (unknown.length) throw new Error(unknownSegments(input.pipeline, unknown, found.matrix));
    env = found.env;
  } catch (err) {
    throw new TrainingRequestError((err as Error).message);
  }
  const workflowId = predictionRunId(input);
  try {
    return await client.workflow.start<typeof predictionRun>(predictionRunWorkflowType, {
      workflowId,
      taskQueue: opts.taskQueue ?? env.temporal.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      // One prediction per partition; retrying the failed segments (or --rerun) is the explicit second run.
      workflowIdReusePolicy: opts.rerun || input.retryFailed ? 'ALLOW_DUPLICATE' : 'REJECT_DUPLICATE',
      staticSummary: `Prediction ${input.pipeline} · ${input.environment} · ${input.partition}${input.retryFailed ? ' · retry failed' : ''}`,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      throw new TrainingRequestError(
        `${workflowId} already ran; pass --retry-failed to re-run its failed segments, or --rerun for all`,
      );
    throw err;
  }
}
