import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { VertexClientFactory } from '../../infra/vertex/clients';
import type { RolloutPlan } from '../../contracts';
import { grpcCode, vertexFailure } from '../vertex/errors';

// The endpoint a rollout serves from, its deployed models and its traffic split. Every call is
// idempotent across retries and a dead worker: a create or deploy that landed unanswered is found
// by its label or by the model version it serves, and an operation in flight is resumed from the
// name the last attempt heartbeated instead of being started again.

export interface DeployedModelView {
  id: string;
  model: string;
  versionId: string;
}
export interface EndpointView {
  name: string;
  split: Record<string, number>;
  deployed: DeployedModelView[];
}

const SERVING_LABEL = 'ct-serving';

/** 1–10 digits, as Vertex requires of a DeployedModel id a caller chooses; the same for every attempt. */
export function deployedModelIdFor(plan: Pick<RolloutPlan, 'workflowId' | 'version'>): string {
  const digest = createHash('sha256').update(`${plan.workflowId}@${plan.version}`).digest();
  return String(1 + (digest.readUInt32BE(0) % 999_999_999));
}

type Endpoint = {
  name?: string | null;
  trafficSplit?: Record<string, number> | null;
  deployedModels?: { id?: string | null; model?: string | null; modelVersionId?: string | null }[] | null;
};

const view = (e: Endpoint): EndpointView => ({
  name: e.name!,
  split: Object.fromEntries(Object.entries(e.trafficSplit ?? {}).filter(([, p]) => p > 0)),
  deployed: (e.deployedModels ?? []).map((d) => ({ id: d.id!, model: d.model!, versionId: d.modelVersionId ?? '' })),
});

/** Resumes the operation the last attempt heartbeated, or starts one and heartbeats its name. */
async function resumable<T>(
  start: () => Promise<{ name?: string | null; promise(): Promise<unknown> }>,
  check: (name: string) => Promise<{ promise(): Promise<unknown> }>,
): Promise<T> {
  const info = Context.current().info;
  const earlier = info.attempt > 1 ? (info.heartbeatDetails as { operation?: string } | undefined) : undefined;
  const op = earlier?.operation ? await check(earlier.operation) : await start();
  if (!earlier?.operation) Context.current().heartbeat({ operation: (op as { name?: string }).name });
  const beat = setInterval(() => Context.current().heartbeat({ operation: (op as { name?: string }).name }), 5_000);
  try {
    const [result] = (await op.promise()) as [T];
    return result;
  } finally {
    clearInterval(beat);
  }
}

export function createEndpointActivities(deps: { vertex: VertexClientFactory }) {
  const endpoints = (region: string) => deps.vertex(region).endpoints;

  async function describe(region: string, name: string): Promise<EndpointView> {
    const [e] = await endpoints(region)
      .getEndpoint({ name })
      .catch((err: unknown) => {
        throw vertexFailure(err, `reading endpoint ${name}`);
      });
    return view(e);
  }

  /** By display name; one this rollout target made (its label) first, else one a person made. */
  async function findEndpoint(plan: RolloutPlan, displayName: string): Promise<EndpointView | undefined> {
    const [found] = await endpoints(plan.region)
      .listEndpoints({
        parent: `projects/${plan.project}/locations/${plan.region}`,
        filter: `display_name="${displayName}"`,
      })
      .catch((err: unknown) => {
        throw vertexFailure(err, `looking for endpoint ${displayName}`);
      });
    const ours = found.find((e) => e.labels?.[SERVING_LABEL] === plan.servingKey) ?? found[0];
    return ours ? view(ours) : undefined;
  }

  return {
    describeEndpoint: (req: { region: string; name: string }) => describe(req.region, req.name),

    /** The endpoint by display name, created if missing (a retry after a lost create finds it). */
    async ensureEndpoint(req: { plan: RolloutPlan; displayName: string }): Promise<EndpointView> {
      const { plan, displayName } = req;
      const existing = await findEndpoint(plan, displayName);
      if (existing) return existing;
      const client = endpoints(plan.region);
      const created = await resumable<Endpoint>(
        () =>
          client
            .createEndpoint({
              parent: `projects/${plan.project}/locations/${plan.region}`,
              endpoint: { displayName, labels: { ...plan.endpointLabels, [SERVING_LABEL]: plan.servingKey } },
            })
            .then(([op]) => op),
        (name) => client.checkCreateEndpointProgress(name),
      ).catch((err: unknown) => {
        throw vertexFailure(err, `creating endpoint ${displayName}`);
      });
      return view(created);
    },

    /**
     * Deploys the version with no traffic (unless `split` says), or finds it deployed. The
     * DeployedModel id is ours, derived from the rollout and version: a second DeployModel for it
     * (a retry whose first call landed unanswered, or a worker that died mid-operation) is refused
     * with ALREADY_EXISTS instead of deploying the version twice, and then waits for the first.
     */
    async deployVersion(req: { plan: RolloutPlan; endpoint: string; split?: Record<string, number> }): Promise<string> {
      const { plan, endpoint } = req;
      const id = deployedModelIdFor(plan);
      const deployed = async () => (await describe(plan.region, endpoint)).deployed.some((d) => d.id === id);
      if (await deployed()) return id;
      const client = endpoints(plan.region);
      try {
        await resumable(
          () =>
            client
              .deployModel({
                endpoint,
                deployedModel: {
                  id,
                  model: `${plan.model}@${plan.version}`,
                  displayName: `${plan.modelId}-v${plan.version}`,
                  dedicatedResources: {
                    machineSpec: { machineType: plan.machine.machineType },
                    minReplicaCount: plan.machine.minReplicas,
                    maxReplicaCount: plan.machine.maxReplicas,
                  },
                },
                ...(req.split ? { trafficSplit: req.split } : {}),
              })
              .then(([op]) => op),
          (name) => client.checkDeployModelProgress(name),
        );
      } catch (err) {
        if (grpcCode(err) !== 6) throw vertexFailure(err, `deploying ${plan.modelId}@${plan.version} to ${endpoint}`);
      }
      // ALREADY_EXISTS: an earlier attempt's deploy is finishing; it is ours, so wait for it.
      while (!(await deployed())) {
        Context.current().heartbeat({});
        await Context.current().sleep(1_000);
      }
      return id;
    },

    /** Replaces the endpoint's whole split (Vertex's semantics: models not named get no traffic). */
    async setTrafficSplit(req: { region: string; endpoint: string; split: Record<string, number> }) {
      const [e] = await endpoints(req.region)
        .updateEndpoint({
          endpoint: { name: req.endpoint, trafficSplit: req.split },
          updateMask: { paths: ['traffic_split'] },
        })
        .catch((err: unknown) => {
          throw vertexFailure(err, `setting the traffic split of ${req.endpoint}`);
        });
      return view(e);
    },

    /** Undeploys a model that has no traffic (or that `split` takes it from); gone already is fine. */
    async undeployModel(req: {
      region: string;
      endpoint: string;
      deployedModelId: string;
      split?: Record<string, number>;
    }) {
      const now = await describe(req.region, req.endpoint);
      if (!now.deployed.some((d) => d.id === req.deployedModelId)) return;
      const client = endpoints(req.region);
      await resumable(
        () =>
          client
            .undeployModel({
              endpoint: req.endpoint,
              deployedModelId: req.deployedModelId,
              ...(req.split ? { trafficSplit: req.split } : {}),
            })
            .then(([op]) => op),
        (name) => client.checkUndeployModelProgress(name),
      ).catch((err: unknown) => {
        // A retry whose undeploy had landed: the model is gone, which is what was asked.
        if (grpcCode(err) === 5) return;
        throw vertexFailure(err, `undeploying ${req.deployedModelId} from ${req.endpoint}`);
      });
    },
  };
}
