import { randomBytes } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { startRolloutRequest } from '../../client/rollout';
import { rolloutStatusQuery, type RolloutStatus } from '../../contracts';
import type { modelRollout } from '../../workflows';
import { createEndpoint, deployModel } from './endpoints';
import { eventually } from './eventually';
import type { IsolatedProject } from './isolation';
import { dailyData, kfpTraining, modelRegistry, projectWith, type PipelineSpec } from './pipelines';
import { startPredictionLoad, type PredictionLoad } from './prediction-load';
import { parentOf, type vertexClients } from './vertex';

// The steps the rollout suites share: a serving pipeline of the test's own (a rollout's workflow id
// is its pipeline, environment and segment, so parallel tests need pipelines of their own), version
// 1 of its model serving all of its endpoint's traffic under steady load, and a rollout of another version.

type Clients = ReturnType<typeof vertexClients>;

/** Trains, registers `{pipeline}-{environment}`, serves it by these rules (a fast watch unless `over` says). */
export const servedPipeline = (over: Partial<NonNullable<PipelineSpec['serving']>> = {}): PipelineSpec => ({
  data: dailyData(['features']),
  training: kfpTraining,
  model: { registry: modelRegistry },
  serving: {
    steps: [50, 100],
    watch: '4s',
    checkEvery: '1s',
    health: { maxErrorRate: 0.05, minPredictions: 5 },
    keepPrevious: '2s',
    ...over,
  },
});

/** A serving pipeline named for this test alone, in a project of its own; its model and endpoint are `{pipeline}-staging`. */
export interface Served {
  iso: IsolatedProject;
  pipeline: string;
  /** The model's id and the endpoint's display name. */
  name: string;
}

export function servedProject(over: Partial<NonNullable<PipelineSpec['serving']>> = {}): Served {
  const pipeline = `served-${randomBytes(4).toString('hex')}`;
  return { iso: projectWith({ [pipeline]: servedPipeline(over) }), pipeline, name: `${pipeline}-staging` };
}

/** A version of the served model (a new model, or a version of `parentModel`). */
export async function uploadServed(vertex: Clients, served: Served, parentModel?: string) {
  const [op] = await vertex.models.uploadModel({
    parent: parentOf(served.iso.project),
    ...(parentModel ? { parentModel } : { modelId: served.name }),
    model: { displayName: 'served', artifactUri: 'gs://ct-test-bucket/m', containerSpec: { imageUri: 'img' } },
  });
  const [res] = await op.promise();
  return { model: res.model!, versionId: res.modelVersionId! };
}

/** Version 1 deployed with all traffic on the served endpoint, version 2 registered, 20 predictions a second. */
export async function servingV1(vertex: Clients, served: Served) {
  const v1 = await uploadServed(vertex, served);
  const endpoint = (await createEndpoint(vertex, served.iso.project, { displayName: served.name })).name!;
  const old = await deployModel(vertex, endpoint, `${v1.model}@${v1.versionId}`, { '0': 100 });
  const v2 = await uploadServed(vertex, served, v1.model);
  const load: PredictionLoad = startPredictionLoad({ client: vertex.predictions, endpoint, ratePerSecond: 20 });
  return { endpoint, old: old.id!, v1, v2, load };
}

export async function rollOut(
  client: Client,
  served: Served,
  version: string,
): Promise<WorkflowHandle<typeof modelRollout>> {
  const { workflowId } = await startRolloutRequest(client, served.iso.config, {
    pipeline: served.pipeline,
    environment: 'staging',
    version,
  });
  return client.workflow.getHandle<typeof modelRollout>(workflowId);
}

/** The rollout's status once `ok` holds for it. */
export const rolloutUntil = (handle: WorkflowHandle, ok: (s: RolloutStatus) => boolean, timeoutMs = 60_000) =>
  eventually(async () => {
    const s = await handle.query(rolloutStatusQuery).catch(() => undefined);
    return s && ok(s) ? s : undefined;
  }, timeoutMs);
