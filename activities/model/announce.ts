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
import type { VertexClientFactory } from '../../infra/vertex/clients';
import { startRollout, servesOnline } from '../../starts/rollout';
import { startOrFind } from '../../starts/start-or-find';
import { grpcCode, vertexFailure } from '../vertex/errors';
import { modelReadyGenerations, writeModelReadyFiles } from './artifacts';

// Model-ready, told two ways: files in GCS for today's flag-file consumers, and a signal to every
// consumer workflow waiting for this model. Consumers mark themselves with the `awaitingModel`
// search attribute before they look at the registry, so one that looked too early is found here;
// one that visibility has not indexed yet finds the new champion on its next look (see waitForModel).
//
// Only the champion is announced. Runs of one model overlap (hourly partitions, a late day), and an
// announcement can be late (its worker died; the retry comes a timeout later): by then another run
// may have promoted and announced a newer version. So the champion is read first and a version that
// no longer holds it is announced nowhere; and the files are written only over the generations read
// before that look, so a newer announcement written in between wins (the retry looks again).

/** The version holding `champion` now (null: none), read by the model's resource name. */
async function championVersion(vertex: VertexClientFactory, model: string): Promise<string | null> {
  const region = /\/locations\/([^/]+)\//.exec(model)?.[1] ?? '';
  try {
    const [m] = await vertex(region).models.getModel({ name: `${model}@champion` });
    return m.versionId ?? null;
  } catch (err) {
    if (grpcCode(err) === 5) return null;
    throw vertexFailure(err, `reading the champion of ${model}`);
  }
}

export function createAnnounceActivity(deps: {
  storage: Storage;
  temporal: Client;
  config: PipelineConfig;
  vertex: VertexClientFactory;
}) {
  return async function announceModel(req: {
    manifest: ModelReady;
    manifestUri?: string;
    flagUri?: string;
  }): Promise<{ consumersTold: number; predictionStarted?: string; rolloutStarted?: string; superseded?: string }> {
    const files = req.manifestUri
      ? { manifestUri: req.manifestUri, flagUri: req.flagUri, manifest: req.manifest }
      : undefined;
    const read = files ? await modelReadyGenerations(deps.storage, files) : undefined;
    const m = req.manifest;
    const champion = await championVersion(deps.vertex, m.model);
    const superseded =
      champion === m.version
        ? undefined
        : `not announced: the champion is ${champion === null ? 'no version' : `version ${champion}`} now, not ${m.version}`;
    let told = 0;
    let rolloutStarted: string | undefined;
    if (!superseded) {
      if (files) await writeModelReadyFiles(deps.storage, files, read);
      told = await tellConsumers(deps.temporal, m);
      // Serving online: the endpoint's rollout gets the new champion (started, or told if one is in flight).
      rolloutStarted = servesOnline(deps.config, m)
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
    }
    if (!deps.config.pipelines[m.pipeline]?.prediction?.startOnModelReady)
      return { consumersTold: told, rolloutStarted, superseded };
    // The config asks for predictions with every new model: the partition's run, once (a retry attaches);
    // also when superseded, since the partition still wants its predictions (with today's champion).
    const workflowId = predictionRunId(m);
    await startOrFind(deps.temporal, {
      workflowType: predictionRunWorkflowType,
      workflowId,
      taskQueue: Context.current().info.taskQueue,
      args: [{ pipeline: m.pipeline, environment: m.environment, partition: m.partition }],
      staticSummary: `Prediction ${m.pipeline} · ${m.environment} · ${m.partition} · started by model-ready ${m.version}`,
    });
    return { consumersTold: told, predictionStarted: workflowId, rolloutStarted, superseded };
  };
}

/** Signals every consumer waiting for this model; how many were told. */
async function tellConsumers(temporal: Client, manifest: ModelReady): Promise<number> {
  const query = `${sa.awaitingModel.name} = "${modelKey(manifest)}" AND ExecutionStatus = "Running"`;
  let told = 0;
  for await (const consumer of temporal.workflow.list({ query })) {
    try {
      // A retry signals again: consumers take the first announcement that is fresh enough.
      await temporal.workflow.getHandle(consumer.workflowId, consumer.runId).signal(modelReadySignal, manifest);
      told++;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err; // it finished meanwhile
    }
  }
  return told;
}
