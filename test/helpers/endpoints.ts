import type { protos, v1 } from '@google-cloud/aiplatform';
import { parentOf } from './vertex';

// Setting up online serving in the Vertex emulator through the real clients, the way a caller
// would: a model in the Model Registry, an Endpoint, DeployModel with its operation awaited.

type Clients = { models: v1.ModelServiceClient; endpoints: v1.EndpointServiceClient };
type TrafficSplit = Record<string, number>;

/** A new model (version 1) in the project's registry, or a new version of `parentModel`; its name and version. */
export async function uploadServingModel(
  c: Clients,
  project: string,
  opts: { parentModel?: string; displayName?: string } = {},
): Promise<{ model: string; versionId: string }> {
  const [op] = await c.models.uploadModel({
    parent: parentOf(project),
    parentModel: opts.parentModel,
    model: {
      displayName: opts.displayName ?? 'engagement-model',
      artifactUri: 'gs://ct-test-bucket/models/engagement',
      containerSpec: { imageUri: 'us-docker.pkg.dev/p/r/server:1' },
    },
  });
  const [resp] = await op.promise();
  return { model: resp.model!, versionId: resp.modelVersionId! };
}

export async function createEndpoint(
  c: Clients,
  project: string,
  opts: { displayName?: string; labels?: Record<string, string>; endpointId?: string } = {},
): Promise<protos.google.cloud.aiplatform.v1.IEndpoint> {
  const [op] = await c.endpoints.createEndpoint({
    parent: parentOf(project),
    endpoint: { displayName: opts.displayName ?? 'engagement', labels: opts.labels },
    endpointId: opts.endpointId,
  });
  const [endpoint] = await op.promise();
  return endpoint;
}

export const dedicated = { machineSpec: { machineType: 'n1-standard-2' }, minReplicaCount: 1, maxReplicaCount: 2 };

/** DeployModel, its operation awaited; the DeployedModel it created. */
export async function deployModel(
  c: Clients,
  endpoint: string,
  model: string,
  trafficSplit?: TrafficSplit,
): Promise<protos.google.cloud.aiplatform.v1.IDeployedModel> {
  const [op] = await c.endpoints.deployModel({
    endpoint,
    deployedModel: { model, displayName: 'engagement', dedicatedResources: dedicated },
    trafficSplit,
  });
  const [resp] = await op.promise();
  return resp.deployedModel!;
}

export async function undeployModel(
  c: Clients,
  endpoint: string,
  deployedModelId: string,
  trafficSplit?: TrafficSplit,
): Promise<void> {
  const [op] = await c.endpoints.undeployModel({ endpoint, deployedModelId, trafficSplit });
  await op.promise();
}

export const getEndpoint = async (c: Clients, name: string) => (await c.endpoints.getEndpoint({ name }))[0];
