import type { Storage } from '@google-cloud/storage';
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { PipelineConfig } from '../../config/pipeline-config';
import {
  modelKey,
  modelReadySignal,
  predictionRunId,
  predictionRunWorkflowType,
  searchAttributes as sa,
  type ModelReady,
} from '../../contracts';
import { startRollout, servesOnline } from '../../starts/rollout';
import { startOrFind } from '../../starts/start-or-find';
import { writeModelReadyFiles } from './artifacts';

// Model-ready, told two ways: files in GCS for today's flag-file consumers, and a signal to every
// consumer workflow waiting for this model. Consumers mark themselves with the `awaitingModel`
// search attribute before they look at the registry, so one that looked too early is found here;
// one that visibility has not indexed yet finds the new champion on its next look (see waitForModel).

export function createAnnounceActivity(deps: { storage: Storage; temporal: Client; config: PipelineConfig }) {
  return async function announceModel(req: {
    manifest: ModelReady;
    manifestUri?: string;
    flagUri?: string;
  }): Promise<{ consumersTold: number; predictionStarted?: string; rolloutStarted?: string }> {
    if (req.manifestUri)
      await writeModelReadyFiles(deps.storage, {
        manifestUri: req.manifestUri,
        flagUri: req.flagUri,
        manifest: req.manifest,
      });
    const query = `${sa.awaitingModel.name} = "${modelKey(req.manifest)}" AND ExecutionStatus = "Running"`;
    let told = 0;
    for await (const consumer of deps.temporal.workflow.list({ query })) {
      try {
        // A retry signals again: consumers take the first announcement that is fresh enough.
        await deps.temporal.workflow
          .getHandle(consumer.workflowId, consumer.runId)
          .signal(modelReadySignal, req.manifest);
        told++;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err; // it finished meanwhile
      }
    }
    const m = req.manifest;
    // Serving online: the endpoint's rollout gets the new champion (started, or told if one is in flight).
    const rolloutStarted = servesOnline(deps.config, m)
      ? (
          await startRollout(
            deps.temporal,
            deps.config,
            {
              pipeline: m.pipeline,
              environment: m.environment,
              segment: m.segment,
              version: m.version,
              startedBy: m.workflowId ?? 'a promotion',
            },
            Context.current().info.taskQueue,
          )
        ).workflowId
      : undefined;
    if (!deps.config.pipelines[m.pipeline]?.prediction?.startOnModelReady)
      return { consumersTold: told, rolloutStarted };
    // The config asks for predictions with every new model: the partition's run, once (a retry attaches).
    const workflowId = predictionRunId(m);
    await startOrFind(deps.temporal, {
      workflowType: predictionRunWorkflowType,
      workflowId,
      taskQueue: Context.current().info.taskQueue,
      args: [{ pipeline: m.pipeline, environment: m.environment, partition: m.partition }],
      staticSummary: `Prediction ${m.pipeline} · ${m.environment} · ${m.partition} · started by model-ready ${m.version}`,
    });
    return { consumersTold: told, predictionStarted: workflowId, rolloutStarted };
  };
}
