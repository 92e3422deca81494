import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { PipelineConfig } from '../../config/pipeline-config';
import { segmentsOf } from '../../config/runs';
import {
  predictionRunId,
  predictionRunWorkflowType,
  trainingFanoutId,
  trainingFanoutWorkflowType,
  trainingRunId,
  trainingRunWorkflowType,
  type ScheduledRunResult,
} from '../../contracts';
import { startOrFind } from '../canonical-start';

// A schedule's firing starts the partition's canonical run, the one Airflow's data-ready and
// operators reach too: started here if nobody has, attached if it runs, nothing if it already ran
// (so a backfill over days that ran starts nothing new for them).

export function createStartScheduledActivity(deps: { config: PipelineConfig; temporal: Client }) {
  return async function startScheduledRun(req: {
    environment: string;
    pipeline: string;
    action: 'training' | 'prediction';
    partition: string;
  }): Promise<Omit<ScheduledRunResult, 'scheduledAt'> & { follow: { pollIntervalMs: number; chunkMs: number } }> {
    const pipeline = deps.config.pipelines[req.pipeline];
    if (!pipeline?.environments[req.environment]) throw ApplicationFailure.nonRetryable(`the config has no pipeline ${req.pipeline} in ${req.environment} any more`, 'InvalidRun');
    const id = { environment: req.environment, pipeline: req.pipeline, partition: req.partition };
    const perSegment = segmentsOf(pipeline).length > 0;
    // The firing follows the run as the run follows its Vertex job: same interval, same chunks.
    const follow = { pollIntervalMs: pipeline.polling.interval, chunkMs: pipeline.polling.chunk };
    const [workflowType, workflowId] =
      req.action === 'prediction'
        ? [predictionRunWorkflowType, predictionRunId(id)]
        : perSegment
          ? [trainingFanoutWorkflowType, trainingFanoutId(id)]
          : [trainingRunWorkflowType, trainingRunId(id)];
    const outcome = await startOrFind(deps.temporal, {
      workflowType,
      workflowId,
      taskQueue: Context.current().info.taskQueue,
      args: [{ pipeline: req.pipeline, environment: req.environment, partition: req.partition }],
      staticSummary: `${req.action === 'prediction' ? 'Prediction' : 'Training'} ${req.pipeline} · ${req.environment} · ${req.partition} (scheduled)`,
    });
    return { partition: req.partition, workflowId, outcome, follow };
  };
}
