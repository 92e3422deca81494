import { status } from '@grpc/grpc-js';
import { RpcError, Violations, invalidArgument, notFound } from './errors';
import { compileFilter, FilterError } from './filter';
import { paginate } from './job-repository';
import { clientName, numericId, parseParent, projectNumberOf, storageKey, type ResourceName } from './names';
import { renderOperation, toTimestamp, V1 } from './protos';
import type { ModelRecord, ModelVersion, OperationRecord, Store } from './store';
import { checkDisplayName, checkLabels } from './validation';

const ALIAS = /^[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]$/;
const MODEL_ID = /^[a-z_][a-z0-9_-]{0,62}$/;
const MODEL_NAME = /^projects\/([^/]+)\/locations\/([^/]+)\/models\/([^/@]+)(?:@([^/]+))?$/;

interface ModelIn {
  displayName?: string;
  containerSpec?: { imageUri?: string };
  artifactUri?: string;
  versionAliases?: string[];
  labels?: Record<string, string>;
}

function parseModelName(name: unknown, field = 'name'): { ref: ResourceName; selector?: string } {
  const m = typeof name === 'string' ? MODEL_NAME.exec(name) : null;
  if (!m)
    throw invalidArgument([
      {
        field,
        message: `must be "projects/{project}/locations/{location}/models/{model}[@version|@alias]", got ${JSON.stringify(name ?? '')}.`,
      },
    ]);
  const p = parseParent(`projects/${m[1]}/locations/${m[2]}`, field);
  return { ref: { ...p, collection: 'models', id: m[3]! }, selector: m[4] };
}

function checkAliases(v: Violations, field: string, aliases: string[], allowRemoval: boolean): void {
  for (const raw of aliases) {
    const alias = allowRemoval && raw.startsWith('-') ? raw.slice(1) : raw;
    if (!ALIAS.test(alias) || /^[0-9]+$/.test(alias))
      v.add(field, `"${raw}" is not a valid alias: [a-z][a-zA-Z0-9-]{0,126}[a-z0-9], not numeric.`);
  }
}

/** Models, their versions and aliases, and the UploadModel long-running operations. */
export class ModelRegistry {
  constructor(private readonly store: Store) {}

  private get numbers(): boolean {
    return this.store.state.settings.projectNumbers;
  }

  upload(req: { parent?: string; parentModel?: string; modelId?: string; model?: ModelIn }): Record<string, unknown> {
    const p = parseParent(req.parent);
    const v = new Violations();
    v.required('model', req.model);
    const model = req.model ?? {};
    checkDisplayName(v, 'model.display_name', model.displayName);
    v.required('model.container_spec.image_uri', model.containerSpec?.imageUri);
    checkLabels(v, 'model.labels', model.labels);
    checkAliases(v, 'model.version_aliases', model.versionAliases ?? [], false);
    if (req.modelId && (!MODEL_ID.test(req.modelId) || /^[0-9-]/.test(req.modelId)))
      v.add('model_id', `"${req.modelId}" is invalid: at most 63 of [a-z0-9_-], not starting with a digit or "-".`);
    if (req.modelId && req.parentModel) v.add('model_id', 'model_id and parent_model cannot both be set.');
    v.throwIfAny();
    let modelRef: ResourceName;
    let parentModelKey: string | undefined;
    if (req.parentModel) {
      const parent = this.model(parseModelName(req.parentModel, 'parent_model').ref, req.parentModel);
      modelRef = parent.ref;
      parentModelKey = parent.key;
    } else {
      modelRef = { ...p, collection: 'models', id: req.modelId || numericId() };
      if (this.store.state.models[storageKey(modelRef)])
        throw new RpcError(status.ALREADY_EXISTS, `Model ${modelRef.id} already exists.`);
    }
    const opRef = {
      ...modelRef,
      collection: 'operations',
      id: numericId(),
      parentCollection: 'models',
      parentId: modelRef.id,
    };
    const now = Date.now();
    const op: OperationRecord = {
      key: `${storageKey(modelRef)}/operations/${opRef.id}`,
      ref: opRef,
      createTime: now,
      doneAt: now + this.store.state.settings.defaults.uploadModelMs,
      done: false,
      pending: { type: 'uploadModel', modelRef, parentModelKey, model: model as Record<string, unknown> },
    };
    this.store.state.operations[op.key] = op;
    this.store.changed();
    return this.renderOperation(op);
  }

  /** Completes due operations: the model version exists only once its upload is done. */
  completeDue(now = Date.now()): void {
    for (const op of Object.values(this.store.state.operations)) {
      if (op.done || op.doneAt > now) continue;
      const { modelRef, parentModelKey, model } = op.pending;
      const key = parentModelKey ?? storageKey(modelRef);
      const record: ModelRecord = this.store.state.models[key] ?? { key, ref: modelRef, versions: [] };
      const versionId = String(
        record.versions.length ? Math.max(...record.versions.map((x) => Number(x.versionId))) + 1 : 1,
      );
      const aliases = [
        ...new Set([
          ...(record.versions.length ? [] : ['default']),
          ...((model.versionAliases as string[] | undefined) ?? []),
        ]),
      ];
      this.moveAliases(record, aliases);
      this.recordAliases(record, aliases, versionId, now);
      record.versions.push({
        versionId,
        resource: { ...model, versionAliases: undefined },
        aliases,
        createTime: now,
        updateTime: now,
      });
      this.store.state.models[key] = record;
      op.done = true;
      op.response = { model: clientName(record.ref, this.numbers), modelVersionId: versionId };
      this.store.changed();
    }
  }

  getOperation(name: unknown): Record<string, unknown> {
    const op = Object.values(this.store.state.operations).find((o) => o.key === operationKey(name));
    if (!op) throw notFound('Operation', String(name));
    this.completeDue();
    return this.renderOperation(op);
  }

  deleteOperation(name: unknown): Record<string, never> {
    const key = operationKey(name);
    if (!this.store.state.operations[key]) throw notFound('Operation', String(name));
    delete this.store.state.operations[key];
    return {};
  }

  get(name: unknown): Record<string, unknown> {
    const { ref, selector } = parseModelName(name);
    const record = this.model(ref, String(name));
    return this.renderVersion(record, this.version(record, selector, String(name)));
  }

  resolve(name: string, field: string): { record: ModelRecord; version: ModelVersion } {
    const { ref, selector } = parseModelName(name, field);
    const record = this.model(ref, name);
    return { record, version: this.version(record, selector, name) };
  }

  listVersions(req: { name?: string; pageSize?: number; pageToken?: string; filter?: string }) {
    const { ref } = parseModelName(req.name);
    const record = this.model(ref, String(req.name));
    let matches: (v: ModelVersion) => boolean;
    try {
      // Vertex filters versions by labels (labels.k="v", labels.k:*); how a retried upload finds its version.
      const f = compileFilter(req.filter ?? '', []);
      matches = (v) => f({ labels: (v.resource.labels ?? {}) as Record<string, string>, fields: {} });
    } catch (err) {
      if (err instanceof FilterError) throw invalidArgument([{ field: 'filter', message: err.message }]);
      throw err;
    }
    const versions = record.versions.filter(matches).sort((a, b) => Number(a.versionId) - Number(b.versionId));
    const page = paginate(versions, req);
    return { models: page.items.map((x) => this.renderVersion(record, x, true)), nextPageToken: page.nextPageToken };
  }

  mergeVersionAliases(req: { name?: string; versionAliases?: string[] }): Record<string, unknown> {
    const { ref, selector } = parseModelName(req.name);
    if (!selector || !/^[0-9]+$/.test(selector))
      throw invalidArgument([
        { field: 'name', message: 'The name must carry an explicit version id (…/models/{model}@{version_id}).' },
      ]);
    const v = new Violations();
    const aliases = req.versionAliases ?? [];
    v.required('version_aliases', aliases);
    checkAliases(v, 'version_aliases', aliases, true);
    if (aliases.includes('-default'))
      v.add('version_aliases', 'The default alias cannot be removed; give it to another version instead.');
    v.throwIfAny();
    const record = this.model(ref, String(req.name));
    const target = this.version(record, selector, String(req.name));
    const add = aliases.filter((a) => !a.startsWith('-'));
    const remove = new Set(aliases.filter((a) => a.startsWith('-')).map((a) => a.slice(1)));
    const net = add.filter((a) => !remove.has(a)); // adding and removing one alias cancel out
    const removed = target.aliases.filter((a) => remove.has(a) && !add.includes(a));
    target.aliases = target.aliases.filter((a) => !remove.has(a) || add.includes(a));
    this.moveAliases(record, net);
    target.aliases = [...new Set([...target.aliases, ...net])];
    target.updateTime = Date.now();
    this.recordAliases(record, net, target.versionId, target.updateTime);
    this.recordAliases(record, removed, null, target.updateTime);
    this.store.changed();
    return this.renderVersion(record, target);
  }

  /** An alias lives on one version at a time: giving it to another version moves it. */
  private moveAliases(record: ModelRecord, aliases: string[]): void {
    for (const version of record.versions) {
      const before = version.aliases.length;
      version.aliases = version.aliases.filter((a) => !aliases.includes(a));
      if (version.aliases.length !== before) version.updateTime = Date.now();
    }
  }

  private recordAliases(record: ModelRecord, aliases: string[], versionId: string | null, at: number): void {
    if (!aliases.length) return;
    record.aliasHistory ??= [];
    for (const alias of aliases) record.aliasHistory.push({ alias, versionId, at });
  }

  private model(ref: ResourceName, name: string): ModelRecord {
    const record = this.store.state.models[storageKey(ref)];
    if (!record) throw notFound('Model', name);
    return record;
  }

  private version(record: ModelRecord, selector: string | undefined, name: string): ModelVersion {
    const want = selector ?? 'default';
    const found = /^[0-9]+$/.test(want)
      ? record.versions.find((x) => x.versionId === want)
      : record.versions.find((x) => x.aliases.includes(want));
    if (!found) throw notFound('Model version', name);
    return found;
  }

  private renderVersion(
    record: ModelRecord,
    version: ModelVersion,
    withVersionInName = false,
  ): Record<string, unknown> {
    const name = clientName(record.ref, this.numbers);
    return {
      ...version.resource,
      name: withVersionInName ? `${name}@${version.versionId}` : name,
      versionId: version.versionId,
      versionAliases: version.aliases,
      createTime: toTimestamp(record.versions[0]!.createTime),
      updateTime: toTimestamp(version.updateTime),
      versionCreateTime: toTimestamp(version.createTime),
      versionUpdateTime: toTimestamp(version.updateTime),
    };
  }

  private renderOperation(op: OperationRecord): Record<string, unknown> {
    const modelName = clientName({ ...op.ref, collection: op.ref.parentCollection, id: op.ref.parentId }, this.numbers);
    return renderOperation({
      ...op,
      name: `${modelName}/operations/${op.ref.id}`,
      metadataType: `${V1}.UploadModelOperationMetadata`,
      responseType: `${V1}.UploadModelResponse`,
    });
  }
}

function operationKey(name: unknown): string {
  const m =
    typeof name === 'string' ? /^projects\/([^/]+)\/locations\/([^/]+)\/(.+)\/operations\/([^/]+)$/.exec(name) : null;
  if (!m) throw invalidArgument([{ field: 'name', message: `"${String(name)}" is not an operation name.` }]);
  return `projects/${projectNumberOf(m[1]!)}/locations/${m[2]}/${m[3]}/operations/${m[4]}`;
}
