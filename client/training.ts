import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { deliverDataReady, trainingRunStartOptions, type RunPlacement } from '../starts/data-ready';
import type { PipelineConfig } from '../config/pipeline-config';
import { trainingFanoutPlan } from '../config/runs';
import { parseRequest, refuse, TrainingRequestError } from './request';
import {
  RouteDataReadyInput,
  TrainingRunInput,
  trainingRunWorkflowType,
  TrainingFanoutInput,
  trainingFanoutId,
  trainingFanoutWorkflowType,
  type DataReadyReport,
  type TrainingPhase,
} from '../contracts';
import type { trainingFanout, trainingRun } from '../workflows';

// The library operators, schedules and Airflow use to start training runs and report data-ready.
// Everything is checked against the config here, so bad input is refused to the caller and never
// reaches a workflow.

export type RunOptions = RunPlacement;

/** Starts (or attaches to) the one run of this partition. */
export async function startTrainingRun(
  client: Client,
  config: PipelineConfig,
  raw: unknown,
  opts: RunOptions = {},
): Promise<WorkflowHandle<typeof trainingRun>> {
  const input = parseRequest(TrainingRunInput, raw, 'training run');
  let options;
  try {
    options = trainingRunStartOptions(config, input, opts);
  } catch (err) {
    refuse(err);
  }
  try {
    return await client.workflow.start<typeof trainingRun>(trainingRunWorkflowType, options);
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new TrainingRequestError(`${options.workflowId} already ran; pass rerun to train this partition again`);
    }
    throw err;
  }
}

/**
 * Tells every run waiting for this dataset and partition that it is ready (starting those that do
 * not exist yet) and reports what each still waits for; see starts/data-ready.ts.
 */
export async function sendDataReady(
  client: Client,
  config: PipelineConfig,
  raw: unknown,
  opts: Pick<RunOptions, 'taskQueue'> = {},
): Promise<DataReadyReport> {
  return deliverDataReady(client, config, parseRequest(RouteDataReadyInput, raw, 'data-ready'), opts).catch(refuse);
}

/** Starts the training of every segment of a partition (at most fanOut.maxConcurrentRuns at once). */
export async function startTrainingFanout(
  client: Client,
  config: PipelineConfig,
  raw: unknown,
  opts: RunOptions = {},
): Promise<WorkflowHandle<typeof trainingFanout>> {
  const input = parseRequest(TrainingFanoutInput, raw, 'training fan-out');
  let plan;
  try {
    plan = trainingFanoutPlan(config, input);
  } catch (err) {
    refuse(err);
  }
  const env = config.pipelines[input.pipeline]!.environments[input.environment]!;
  return client.workflow.start<typeof trainingFanout>(trainingFanoutWorkflowType, {
    workflowId: trainingFanoutId(input),
    taskQueue: opts.taskQueue ?? env.temporal.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `Training ${input.pipeline} · ${input.environment} · ${plan.segments.length} segments · ${input.partition}`,
  });
}

export type { DataReadyReport, TrainingPhase };
export { TrainingRequestError };
