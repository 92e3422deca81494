import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { VertexClientFactory } from '../../infra/vertex/clients';
import type { RolloutPlan } from '../../contracts';
import { grpcCode, vertexFailure } from '../vertex/errors';
import { describeEndpointOf } from './endpoint';
import { resumable } from './operations';

// Deploying a model version to an endpoint and undeploying it, each idempotent across retries and
// a dead worker (see deployVersion and operations.ts).

/** 1–10 digits, as Vertex requires of a DeployedModel id a caller chooses; the same for every attempt. */
export function deployedModelIdFor(plan: Pick<RolloutPlan, 'workflowId' | 'version'>): string {
  const digest = createHash('sha256').update(`${plan.workflowId}@${plan.version}`).digest();
  return String(1 + (digest.readUInt32BE(0) % 999_999_999));
}

export function createDeployActivities(deps: { vertex: VertexClientFactory }) {
  const endpoints = (region: string) => deps.vertex(region).endpoints;
  const describe = (region: string, name: string) => describeEndpointOf(deps.vertex, region, name);

  return {
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
