import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import { deliverDataReady, trainingRunStartOptions, type RunPlacement } from '../starts/data-ready';
import type { PipelineConfig } from '../config/pipeline-config';
import { InvalidRunError, trainingFanoutPlan } from '../config/runs';
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

export class TrainingRequestError extends Error {
  override name = 'TrainingRequestError';
}

function refuse(err: unknown): never {
  if (err instanceof InvalidRunError) throw new TrainingRequestError(err.message);
  throw err;
}

export type RunOptions = RunPlacement;

/** Starts (or attaches to) the one run of this partition. */
export async function startTrainingRun(
  client: Client,
  config: PipelineConfig,
  raw: unknown,
  opts: RunOptions = {},
): Promise<WorkflowHandle<typeof trainingRun>> {
  const parsed = TrainingRunInput.safeParse(raw);
  if (!parsed.success) throw new TrainingRequestError(`invalid training run:\n${z.prettifyError(parsed.error)}`);
  let options;
  try {
    options = trainingRunStartOptions(config, parsed.data, opts);
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
  const parsed = RouteDataReadyInput.safeParse(raw);
  if (!parsed.success) throw new TrainingRequestError(`invalid data-ready:\n${z.prettifyError(parsed.error)}`);
  return deliverDataReady(client, config, parsed.data, opts).catch(refuse);
}

/** Starts the training of every segment of a partition (at most fanOut.maxConcurrentRuns at once). */
export async function startTrainingFanout(
  client: Client,
  config: PipelineConfig,
  raw: unknown,
  opts: RunOptions = {},
): Promise<WorkflowHandle<typeof trainingFanout>> {
  const parsed = TrainingFanoutInput.safeParse(raw);
  if (!parsed.success) throw new TrainingRequestError(`invalid training fan-out:\n${z.prettifyError(parsed.error)}`);
  let plan;
  try {
    plan = trainingFanoutPlan(config, parsed.data);
  } catch (err) {
    refuse(err);
  }
  const env = config.pipelines[parsed.data.pipeline]!.environments[parsed.data.environment]!;
  return client.workflow.start<typeof trainingFanout>(trainingFanoutWorkflowType, {
    workflowId: trainingFanoutId(parsed.data),
    taskQueue: opts.taskQueue ?? env.temporal.taskQueue,
    args: [parsed.data],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `Training ${parsed.data.pipeline} · ${parsed.data.environment} · ${plan.segments.length} segments · ${parsed.data.partition}`,
  });
}

export type { DataReadyReport, TrainingPhase };
