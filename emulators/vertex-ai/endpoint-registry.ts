import { status } from '@grpc/grpc-js';
import { RpcError, Violations, invalidArgument, notFound } from './errors';
import { compileFilter, FilterError } from './filter';
import { paginate } from './job-repository';
import type { ModelRegistry } from './model-registry';
import {
  clientName,
  numericId,
  parseParent,
  parseResourceName,
  projectNumberOf,
  storageKey,
  type ResourceName,
} from './names';
import { sameProject } from './policy';
import { renderOperation, toTimestamp, V1 } from './protos';
import type {
  DeployedModelRecord,
  EndpointOperationKind,
  EndpointOperationRecord,
  EndpointRecord,
  Store,
} from './store';
import { checkSplit, type TrafficSplit } from './traffic-split';
import { checkDisplayName, checkLabels } from './validation';

// Vertex's EndpointService: endpoints, their DeployedModels and traffic split, with DeployModel and
// UndeployModel as long-running operations that finish on the emulator's clock. CreateEndpoint and
// DeleteEndpoint are operations too, answered already done.

// Vertex's rule for a caller-chosen endpoint_id: a name of [a-z0-9-] starting with a letter, or a
// number of at most 9 digits without a leading zero.
const ENDPOINT_ID = /^(?:[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?|[1-9][0-9]{0,8})$/;
const UPDATABLE = new Set(['display_name', 'description', 'labels', 'traffic_split']);
const DEFAULT_DEPLOY_MS = 300;

interface EndpointIn {
  name?: string;
  displayName?: string;
  description?: string;
  labels?: Record<string, string>;
  trafficSplit?: TrafficSplit;
}

interface DeployedModelIn {
  /** 1-10 digits, when the caller chooses it. */
  id?: string;
  model?: string;
  displayName?: string;
  dedicatedResources?: {
    machineSpec?: { machineType?: string };
    minReplicaCount?: number;
    maxReplicaCount?: number;
  };
  automaticResources?: { minReplicaCount?: number; maxReplicaCount?: number };
}

const OPERATION_TYPES: Record<EndpointOperationKind, { metadata: string; response: string }> = {
  createEndpoint: { metadata: `${V1}.CreateEndpointOperationMetadata`, response: `${V1}.Endpoint` },
  deleteEndpoint: { metadata: `${V1}.DeleteOperationMetadata`, response: 'google.protobuf.Empty' },
  deployModel: { metadata: `${V1}.DeployModelOperationMetadata`, response: `${V1}.DeployModelResponse` },
  undeployModel: { metadata: `${V1}.UndeployModelOperationMetadata`, response: `${V1}.UndeployModelResponse` },
};

const ENDPOINT_OPERATION = /^projects\/([^/]+)\/locations\/([^/]+)\/endpoints\/([^/]+)\/operations\/([^/]+)$/;

/** Whether an operation name is an endpoint's (the Operations service serves both kinds). */
export const isEndpointOperation = (name: unknown) => typeof name === 'string' && ENDPOINT_OPERATION.test(name);

/** DeployedModel ids are numeric strings, like the other server-made ids. */
const deployedModelId = numericId;

export class EndpointRegistry {
  constructor(
    private readonly store: Store,
    private readonly models: ModelRegistry,
  ) {}

  private get numbers(): boolean {
    return this.store.state.settings.projectNumbers;
  }

  create(req: { parent?: string; endpoint?: EndpointIn; endpointId?: string }): Record<string, unknown> {
    const p = parseParent(req.parent);
    const v = new Violations();
    v.required('endpoint', req.endpoint);
    const e = req.endpoint ?? {};
    checkDisplayName(v, 'endpoint.display_name', e.displayName);
    checkLabels(v, 'endpoint.labels', e.labels);
    if (req.endpointId && !ENDPOINT_ID.test(req.endpointId))
      v.add(
        'endpoint_id',
        `"${req.endpointId}" is invalid: [a-z0-9-] starting with a letter (at most 63), or at most 9 digits without a leading zero.`,
      );
    if (e.trafficSplit && Object.keys(e.trafficSplit).length)
      v.add('endpoint.traffic_split', 'A new Endpoint has no DeployedModels to give traffic to.');
    v.throwIfAny();
    const ref: ResourceName = { ...p, collection: 'endpoints', id: req.endpointId || numericId() };
    const key = storageKey(ref);
    if (this.store.state.endpoints[key])
      throw new RpcError(status.ALREADY_EXISTS, `Endpoint ${ref.id} already exists.`);
    const now = Date.now();
    const record: EndpointRecord = {
      key,
      ref,
      resource: { displayName: e.displayName, description: e.description, labels: e.labels },
      deployedModels: [],
      trafficSplit: {},
      createTime: now,
      updateTime: now,
    };
    this.store.state.endpoints[key] = record;
    this.store.changed();
    const op = this.newOperation('createEndpoint', record, 0, {});
    this.finish(op, { response: this.render(record) });
    return this.renderOperation(op);
  }

  get(name: unknown): Record<string, unknown> {
    return this.render(this.endpoint(name));
  }

  list(req: { parent?: string; filter?: string; pageSize?: number; pageToken?: string }) {
    const p = parseParent(req.parent);
    const prefix = `projects/${projectNumberOf(p.project)}/locations/${p.location}/endpoints/`;
    let matches: (e: EndpointRecord) => boolean;
    try {
      const f = compileFilter(req.filter ?? '', ['display_name']);
      matches = (e) =>
        f({
          labels: (e.resource.labels ?? {}) as Record<string, string>,
          fields: { display_name: e.resource.displayName as string | undefined },
        });
    } catch (err) {
      if (err instanceof FilterError) throw invalidArgument([{ field: 'filter', message: err.message }]);
      throw err;
    }
    const all = Object.values(this.store.state.endpoints)
      .filter((e) => e.key.startsWith(prefix) && matches(e))
      .sort((a, b) => b.createTime - a.createTime || a.key.localeCompare(b.key));
    const page = paginate(all, req);
    return { endpoints: page.items.map((e) => this.render(e)), nextPageToken: page.nextPageToken };
  }

  update(req: { endpoint?: EndpointIn; updateMask?: { paths?: string[] } }): Record<string, unknown> {
    const v = new Violations();
    v.required('endpoint', req.endpoint);
    const paths = (req.updateMask?.paths ?? []).map((x) => x.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
    v.required('update_mask', paths);
    for (const path of paths)
      if (!UPDATABLE.has(path)) v.add('update_mask', `"${path}" cannot be updated (${[...UPDATABLE].join(', ')}).`);
    v.throwIfAny();
    const e = req.endpoint!;
    const record = this.endpoint(e.name, 'endpoint.name');
    if (paths.includes('display_name')) checkDisplayName(v, 'endpoint.display_name', e.displayName);
    if (paths.includes('labels')) checkLabels(v, 'endpoint.labels', e.labels);
    v.throwIfAny();
    const split = e.trafficSplit ?? {};
    if (paths.includes('traffic_split'))
      checkSplit(
        split,
        record.deployedModels.map((d) => d.id),
        'endpoint.traffic_split',
        true,
      );
    if (paths.includes('display_name')) record.resource.displayName = e.displayName;
    if (paths.includes('description')) record.resource.description = e.description;
    if (paths.includes('labels')) record.resource.labels = e.labels;
    if (paths.includes('traffic_split')) record.trafficSplit = { ...split };
    this.touch(record);
    return this.render(record);
  }

  delete(req: { name?: string }): Record<string, unknown> {
    const record = this.endpoint(req.name);
    if (record.deployedModels.length)
      throw new RpcError(
        status.FAILED_PRECONDITION,
        `Endpoint ${record.ref.id} has ${record.deployedModels.length} DeployedModel(s): undeploy them before deleting it.`,
      );
    delete this.store.state.endpoints[record.key];
    this.store.changed();
    const op = this.newOperation('deleteEndpoint', record, 0, {});
    this.finish(op, { response: {} });
    return this.renderOperation(op);
  }

  deploy(req: { endpoint?: string; deployedModel?: DeployedModelIn; trafficSplit?: TrafficSplit }) {
    const record = this.endpoint(req.endpoint, 'endpoint');
    const v = new Violations();
    const dm = req.deployedModel;
    v.required('deployed_model', dm);
    v.required('deployed_model.model', dm?.model);
    const dedicated = dm?.dedicatedResources;
    if (dm && !dedicated && !dm.automaticResources)
      v.add('deployed_model.dedicated_resources', 'A custom model is deployed on dedicated_resources.');
    if (dedicated) {
      v.required('deployed_model.dedicated_resources.machine_spec.machine_type', dedicated.machineSpec?.machineType);
      if (!dedicated.minReplicaCount || dedicated.minReplicaCount < 1)
        v.add('deployed_model.dedicated_resources.min_replica_count', 'Must be at least 1.');
      if (dedicated.maxReplicaCount && dedicated.maxReplicaCount < (dedicated.minReplicaCount ?? 1))
        v.add('deployed_model.dedicated_resources.max_replica_count', 'Must not be below min_replica_count.');
    }
    if (dm?.id && !/^[0-9]{1,10}$/.test(dm.id)) v.add('deployed_model.id', 'Must be 1-10 digits.');
    v.throwIfAny();
    // A caller-chosen id is unique on the endpoint, counting deploys still in flight: a second
    // DeployModel for it is refused instead of deploying the model twice.
    if (dm?.id && this.takenIds(record).has(dm.id))
      throw new RpcError(status.ALREADY_EXISTS, `DeployedModel ${dm.id} already exists on ${record.ref.id}.`);
    const split = req.trafficSplit ?? {};
    if (Object.keys(split).length)
      checkSplit(split, ['0', ...record.deployedModels.map((d) => d.id)], 'traffic_split', false);
    const { record: model, version } = this.models.resolve(dm!.model!, 'deployed_model.model');
    const resource = { ...dm } as Record<string, unknown>;
    delete resource.model;
    const op = this.newOperation('deployModel', record, this.deployScript(record), {
      deployedModel: { modelRef: model.ref, modelVersionId: version.versionId, resource },
      trafficSplit: Object.keys(split).length ? split : undefined,
    });
    return this.renderOperation(op);
  }

  undeploy(req: { endpoint?: string; deployedModelId?: string; trafficSplit?: TrafficSplit }) {
    const record = this.endpoint(req.endpoint, 'endpoint');
    const v = new Violations();
    v.required('deployed_model_id', req.deployedModelId);
    v.throwIfAny();
    const id = req.deployedModelId!;
    if (!record.deployedModels.some((d) => d.id === id))
      throw notFound('DeployedModel', `${clientName(record.ref, this.numbers)}/deployedModels/${id}`);
    const others = record.deployedModels.filter((d) => d.id !== id).map((d) => d.id);
    const split = req.trafficSplit ?? {};
    if ((split[id] ?? 0) > 0)
      throw invalidArgument([
        {
          field: `traffic_split[${id}]`,
          message: `gives traffic to DeployedModel ${id}, which this request undeploys.`,
        },
      ]);
    if (Object.keys(split).length) {
      const withoutTarget = Object.fromEntries(Object.entries(split).filter(([k]) => k !== id));
      checkSplit(withoutTarget, others, 'traffic_split', others.length === 0);
    } else if (others.length && (record.trafficSplit[id] ?? 0) > 0) {
      throw new RpcError(
        status.FAILED_PRECONDITION,
        `DeployedModel ${id} still receives ${record.trafficSplit[id]}% of Endpoint ${record.ref.id}'s traffic: move it to other DeployedModels (traffic_split) before undeploying it.`,
      );
    }
    // The request's split applies at once: the model being undeployed serves no more requests.
    if (Object.keys(split).length) {
      record.trafficSplit = Object.fromEntries(Object.entries(split).filter(([k]) => k !== id));
      this.touch(record);
    }
    const op = this.newOperation('undeployModel', record, this.deployScript(record), { deployedModelId: id });
    return this.renderOperation(op);
  }

  /** Completes due operations: a deploy adds its DeployedModel (and split), an undeploy removes it. */
  completeDue(now = Date.now()): void {
    for (const op of Object.values(this.store.state.endpointOperations)) {
      if (op.done || op.doneAt > now) continue;
      if (op.pending.fail) {
        this.finish(op, { error: op.pending.fail });
        continue;
      }
      const record = this.store.state.endpoints[storageKey(op.endpointRef)];
      if (!record) {
        this.finish(op, { error: { code: status.NOT_FOUND, message: `Endpoint ${op.endpointRef.id} was deleted.` } });
        continue;
      }
      if (op.kind === 'deployModel') this.completeDeploy(op, record, now);
      else if (op.kind === 'undeployModel') this.completeUndeploy(op, record);
    }
  }

  private completeDeploy(op: EndpointOperationRecord, record: EndpointRecord, now: number): void {
    const chosen = (op.pending.deployedModel!.resource as { id?: string }).id;
    const id = chosen || deployedModelId();
    const deployed: DeployedModelRecord = { ...op.pending.deployedModel!, id, createTime: now };
    const split = op.pending.trafficSplit;
    if (split) {
      const replaced = Object.fromEntries(Object.entries(split).map(([k, p]) => [k === '0' ? id : k, p]));
      const stale = Object.keys(replaced).find((k) => k !== id && !record.deployedModels.some((d) => d.id === k));
      if (stale) {
        const message = `traffic_split names DeployedModel ${stale}, which was undeployed meanwhile.`;
        return this.finish(op, { error: { code: status.FAILED_PRECONDITION, message } });
      }
      record.trafficSplit = replaced;
    }
    record.deployedModels.push(deployed);
    this.touch(record);
    this.finish(op, { response: { deployedModel: this.renderDeployed(deployed) } });
  }

  /** Ids deployed on the endpoint or chosen by a deploy still in flight. */
  private takenIds(record: EndpointRecord): Set<string> {
    const inFlight = Object.values(this.store.state.endpointOperations)
      .filter((op) => op.kind === 'deployModel' && !op.done && op.endpointRef.id === record.ref.id)
      .map((op) => (op.pending.deployedModel?.resource as { id?: string } | undefined)?.id)
      .filter((id): id is string => !!id);
    return new Set([...record.deployedModels.map((d) => d.id), ...inFlight]);
  }

  private completeUndeploy(op: EndpointOperationRecord, record: EndpointRecord): void {
    const id = op.pending.deployedModelId!;
    record.deployedModels = record.deployedModels.filter((d) => d.id !== id);
    const rest = Object.entries(record.trafficSplit).filter(([k]) => k !== id);
    record.trafficSplit = record.deployedModels.length ? Object.fromEntries(rest) : {};
    this.touch(record);
    this.finish(op, { response: {} });
  }

  getOperation(name: unknown): Record<string, unknown> {
    this.completeDue();
    return this.renderOperation(this.operation(name));
  }

  deleteOperation(name: unknown): Record<string, never> {
    delete this.store.state.endpointOperations[this.operation(name).key];
    return {};
  }

  /** The endpoint a name refers to, or NOT_FOUND. */
  endpoint(name: unknown, field = 'name'): EndpointRecord {
    const ref = parseResourceName(name, 'endpoints', field);
    const record = this.store.state.endpoints[storageKey(ref)];
    if (!record) throw notFound('Endpoint', String(name));
    return record;
  }

  render(e: EndpointRecord): Record<string, unknown> {
    return {
      ...e.resource,
      name: clientName(e.ref, this.numbers),
      deployedModels: e.deployedModels.map((d) => this.renderDeployed(d)),
      trafficSplit: e.trafficSplit,
      etag: String(e.updateTime),
      createTime: toTimestamp(e.createTime),
      updateTime: toTimestamp(e.updateTime),
    };
  }

  renderDeployed(d: DeployedModelRecord): Record<string, unknown> {
    return {
      ...d.resource,
      id: d.id,
      model: clientName(d.modelRef, this.numbers),
      modelVersionId: d.modelVersionId,
      createTime: toTimestamp(d.createTime),
    };
  }

  /** The operation's run time from the newest deploy script matching the project (DEFAULT_DEPLOY_MS without). */
  private deployScript(record: EndpointRecord): { delayMs: number; fail?: { code: number; message: string } } {
    const scripts = this.store.state.deployScripts;
    const script = scripts.findLast((s) => sameProject(s.match.project, record.ref.project));
    if (script?.remaining !== undefined && --script.remaining <= 0) scripts.splice(scripts.indexOf(script), 1);
    return { delayMs: script?.deploy.delayMs ?? DEFAULT_DEPLOY_MS, fail: script?.deploy.fail };
  }

  private newOperation(
    kind: EndpointOperationKind,
    record: EndpointRecord,
    run: number | { delayMs: number; fail?: { code: number; message: string } },
    pending: EndpointOperationRecord['pending'],
  ): EndpointOperationRecord {
    const now = Date.now();
    const id = numericId();
    const { delayMs, fail } = typeof run === 'number' ? { delayMs: run, fail: undefined } : run;
    const op: EndpointOperationRecord = {
      key: `${record.key}/operations/${id}`,
      kind,
      endpointRef: record.ref,
      id,
      createTime: now,
      doneAt: now + delayMs,
      done: false,
      pending: { ...pending, fail },
    };
    this.store.state.endpointOperations[op.key] = op;
    this.store.changed();
    return op;
  }

  private finish(
    op: EndpointOperationRecord,
    outcome: { response?: Record<string, unknown>; error?: { code: number; message: string } },
  ): void {
    op.done = true;
    op.doneAt = Math.min(op.doneAt, Date.now());
    op.response = outcome.response;
    op.error = outcome.error;
    this.store.changed();
  }

  private touch(record: EndpointRecord): void {
    record.updateTime = Date.now();
    this.store.changed();
  }

  private operation(name: unknown): EndpointOperationRecord {
    const m = typeof name === 'string' ? ENDPOINT_OPERATION.exec(name) : null;
    if (!m) throw invalidArgument([{ field: 'name', message: `"${String(name)}" is not an operation name.` }]);
    const key = `projects/${projectNumberOf(m[1]!)}/locations/${m[2]}/endpoints/${m[3]}/operations/${m[4]}`;
    const op = this.store.state.endpointOperations[key];
    if (!op) throw notFound('Operation', String(name));
    return op;
  }

  private renderOperation(op: EndpointOperationRecord): Record<string, unknown> {
    const types = OPERATION_TYPES[op.kind];
    return renderOperation({
      ...op,
      name: `${clientName(op.endpointRef, this.numbers)}/operations/${op.id}`,
      metadataType: types.metadata,
      responseType: types.response,
    });
  }
}
