import type { Client, WorkflowHandle } from '@temporalio/client';
import { startRolloutRequest } from '../../client/rollout';
import { rolloutStatusQuery, type RolloutStatus } from '../../contracts';
import type { modelRollout } from '../../workflows';
import { createEndpoint, deployModel } from './endpoints';
import { eventually } from './eventually';
import type { IsolatedProject } from './isolation';
import { dailyData, kfpTraining, modelRegistry, type PipelineSpec } from './pipelines';
import { startPredictionLoad, type PredictionLoad } from './prediction-load';
import { parentOf, type vertexClients } from './vertex';

// The steps the rollout suites share: a pipeline `served` whose model is `served-staging`, version 1
// serving all of `served-staging`'s traffic under steady load, and a rollout of another version.

type Clients = ReturnType<typeof vertexClients>;

/** `served`: trains, registers `served-staging`, serves it by these rules (a fast watch unless `over` says). */
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

/** A version of `served-staging` (a new model, or a version of `parentModel`). */
export async function uploadServed(vertex: Clients, project: string, parentModel?: string) {
  const [op] = await vertex.models.uploadModel({
    parent: parentOf(project),
    ...(parentModel ? { parentModel } : { modelId: 'served-staging' }),
    model: { displayName: 'served', artifactUri: 'gs://ct-test-bucket/m', containerSpec: { imageUri: 'img' } },
  });
  const [res] = await op.promise();
  return { model: res.model!, versionId: res.modelVersionId! };
}

/** Version 1 deployed with all traffic on endpoint `served-staging`, version 2 registered, 20 predictions a second. */
export async function servingV1(vertex: Clients, project: string) {
  const v1 = await uploadServed(vertex, project);
  const endpoint = (await createEndpoint(vertex, project, { displayName: 'served-staging' })).name!;
  const old = await deployModel(vertex, endpoint, `${v1.model}@${v1.versionId}`, { '0': 100 });
  const v2 = await uploadServed(vertex, project, v1.model);
  const load: PredictionLoad = startPredictionLoad({ client: vertex.predictions, endpoint, ratePerSecond: 20 });
  return { endpoint, old: old.id!, v1, v2, load };
}

export async function rollOut(
  client: Client,
  iso: IsolatedProject,
  version: string,
): Promise<WorkflowHandle<typeof modelRollout>> {
  const { workflowId } = await startRolloutRequest(client, iso.config, {
    pipeline: 'served',
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
