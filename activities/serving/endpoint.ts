import type { VertexClientFactory } from '../../infra/vertex/clients';
import type { RolloutPlan } from '../../contracts';
import { vertexFailure } from '../vertex/errors';
import { resumable } from './operations';

// The endpoint a rollout serves from and its traffic split. A create that landed unanswered is
// found by its display name (and label) on the retry; one in flight is resumed (operations.ts).

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

/** The endpoint as it is now: its split and deployed models. */
export async function describeEndpointOf(
  vertex: VertexClientFactory,
  region: string,
  name: string,
): Promise<EndpointView> {
  const [e] = await vertex(region)
    .endpoints.getEndpoint({ name })
    .catch((err: unknown) => {
      throw vertexFailure(err, `reading endpoint ${name}`);
    });
  return view(e);
}

export function createEndpointActivities(deps: { vertex: VertexClientFactory }) {
  const endpoints = (region: string) => deps.vertex(region).endpoints;

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
    describeEndpoint: (req: { region: string; name: string }) => describeEndpointOf(deps.vertex, req.region, req.name),

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
  };
}
