import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import type { PredictionEntry } from './control-schema';
import type { EndpointRegistry } from './endpoint-registry';
import { RpcError, Violations } from './errors';
import { clientName, storageKey } from './names';
import { CallPolicy, sameProject } from './policy';
import { jsonToValue, type ProtoValue } from './protos';
import type { DeployedModelRecord, EndpointRecord, StoredPredictRule, Store } from './store';
import { SplitPicker } from './traffic-split';

// PredictionService.Predict: each request is served by one DeployedModel, chosen as the endpoint's
// traffic split says, and answers as the control API scripted that deployed model (predictions,
// errors, latency). Every request a deployed model served is logged: Cloud Monitoring's time series
// (monitoring-service.ts) are computed from that log, so health comes from traffic actually served.

const MAX_LOG = 200_000;

type PredictScript = StoredPredictRule['script'];

const modelIdOf = (model: string) => /(?:^|\/models\/)([^/@]+)(?:@[^/]+)?$/.exec(model)?.[1] ?? model;

export class PredictionServer {
  private readonly picker = new SplitPicker();
  /** Requests served per endpoint and deployed model: spreads a scripted error rate evenly. */
  private readonly served = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly endpoints: EndpointRegistry,
  ) {}

  async predict(req: { endpoint?: string; instances?: ProtoValue[] }): Promise<Record<string, unknown>> {
    const arrivedAt = Date.now();
    const endpoint = this.endpoints.endpoint(req.endpoint, 'endpoint');
    const v = new Violations();
    v.required('instances', req.instances);
    v.throwIfAny();
    const id = this.picker.pick(endpoint.key, endpoint.trafficSplit);
    const deployed = id && endpoint.deployedModels.find((d) => d.id === id);
    if (!deployed)
      throw new RpcError(
        status.FAILED_PRECONDITION,
        `Endpoint ${endpoint.ref.id} has no DeployedModel that receives traffic: deploy a model and give it a share of the traffic_split.`,
      );
    const script = this.scriptFor(endpoint, deployed);
    const servedKey = `${endpoint.key}/${deployed.id}`;
    const n = (this.served.get(servedKey) ?? 0) + 1;
    this.served.set(servedKey, n);
    const rate = script.errorRate ?? 0;
    const fails = rate > 0 && Math.floor(n * rate) > Math.floor((n - 1) * rate);
    // A Node timer may fire a millisecond before Date.now() shows its delay passed; the scripted latency is a floor.
    const due = arrivedAt + (script.latencyMs ?? 0);
    while (Date.now() < due) await sleep(due - Date.now());
    const errorCode = fails ? (script.errorCode ?? 'INTERNAL') : null;
    this.log({
      time: new Date(arrivedAt).toISOString(),
      project: endpoint.ref.project,
      region: endpoint.ref.location,
      endpointId: endpoint.ref.id,
      deployedModelId: deployed.id,
      instanceCount: req.instances!.length,
      latencyMs: Date.now() - arrivedAt,
      errorCode,
    });
    if (errorCode) throw CallPolicy.errorFor({ id: 0, method: 'Predict', code: errorCode });
    const predictions =
      script.predictions === undefined || script.predictions === 'echo'
        ? req.instances!
        : script.predictions.map(jsonToValue);
    const numbers = this.store.state.settings.projectNumbers;
    const model = this.store.state.models[storageKey(deployed.modelRef)];
    const version = model?.versions.find((x) => x.versionId === deployed.modelVersionId);
    return {
      predictions,
      deployedModelId: deployed.id,
      model: clientName(deployed.modelRef, numbers),
      modelVersionId: deployed.modelVersionId,
      modelDisplayName: version?.resource.displayName,
    };
  }

  /** The newest rule that matches this deployed model (so a test re-scripts by adding a rule); defaults without. */
  private scriptFor(endpoint: EndpointRecord, deployed: DeployedModelRecord): PredictScript {
    const rule = this.store.state.predictRules.findLast(({ match: m }) => {
      return (
        sameProject(m.project, endpoint.ref.project) &&
        (!m.endpointId || m.endpointId === endpoint.ref.id) &&
        (!m.deployedModelId || m.deployedModelId === deployed.id) &&
        (!m.model || modelIdOf(m.model) === deployed.modelRef.id) &&
        (!m.modelVersionId || m.modelVersionId === deployed.modelVersionId)
      );
    });
    return rule?.script ?? {};
  }

  private log(entry: PredictionEntry): void {
    const log = this.store.predictions;
    log.push(entry);
    if (log.length > MAX_LOG) log.splice(0, log.length - MAX_LOG);
  }
}
