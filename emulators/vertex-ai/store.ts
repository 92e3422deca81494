import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  defaultSettings,
  type CallLogEntry,
  type DeployScriptInput,
  type FaultInput,
  type PredictionEntry,
  type PredictRuleInput,
  type JobKind,
  type JobScript,
  type ScriptRuleInput,
  type Settings,
} from './control-schema';
import type { ResourceName } from './names';

export type GenericState =
  | 'QUEUED'
  | 'PENDING'
  | 'RUNNING'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'CANCELLING'
  | 'CANCELLED'
  | 'PAUSED'
  | 'EXPIRED'
  | 'PARTIALLY_SUCCEEDED';

export const TERMINAL: ReadonlySet<GenericState> = new Set([
  'SUCCEEDED',
  'FAILED',
  'CANCELLED',
  'EXPIRED',
  'PARTIALLY_SUCCEEDED',
]);

export interface JobRecord {
  kind: JobKind;
  key: string;
  /** Creation order, to order jobs created within the same millisecond. */
  seq: number;
  ref: ResourceName;
  /** The resource as the client sent it (decoded proto object, camelCase). */
  resource: Record<string, unknown>;
  state: GenericState;
  createTime: number;
  startTime?: number;
  endTime?: number;
  updateTime: number;
  /** When the next transition is due; undefined while held or at rest. */
  dueAt?: number;
  script: JobScript;
  error?: { code: number; message: string };
  /** Output-only fields set at the end (outputInfo, completionStats, jobDetail…). */
  outputs: Record<string, unknown>;
  cancelRequested: boolean;
  modelVersionId?: string;
}

export interface ModelVersion {
  versionId: string;
  resource: Record<string, unknown>;
  aliases: string[];
  createTime: number;
  updateTime: number;
}

/** One alias given to a version (`versionId`), or taken off without being given to another (null). */
export interface AliasChange {
  alias: string;
  versionId: string | null;
  at: number;
}

export interface ModelRecord {
  key: string;
  ref: ResourceName;
  versions: ModelVersion[];
  /**
   * Every move of an alias, oldest first: which version held `champion` when, which Vertex shows
   * only as a version's update_time. Absent in state saved before it was kept.
   */
  aliasHistory?: AliasChange[];
}

export interface OperationRecord {
  key: string;
  ref: ResourceName & { parentCollection: string; parentId: string };
  createTime: number;
  doneAt: number;
  done: boolean;
  /** What completing it does: an upload stores a model version. */
  pending: { type: 'uploadModel'; modelRef: ResourceName; parentModelKey?: string; model: Record<string, unknown> };
  response?: { model: string; modelVersionId: string };
  error?: { code: number; message: string };
}

export interface DeployedModelRecord {
  /** Server-made, numeric, unique within the endpoint. */
  id: string;
  /** The model (no version) and the version that was resolved when it was deployed. */
  modelRef: ResourceName;
  modelVersionId: string;
  /** The DeployedModel as the client sent it (dedicatedResources, displayName…). */
  resource: Record<string, unknown>;
  createTime: number;
}

export interface EndpointRecord {
  key: string;
  ref: ResourceName;
  /** displayName, description, labels: what UpdateEndpoint may change. */
  resource: Record<string, unknown>;
  deployedModels: DeployedModelRecord[];
  /** DeployedModel id → percent; empty, or summing to 100. */
  trafficSplit: Record<string, number>;
  createTime: number;
  updateTime: number;
}

export type EndpointOperationKind = 'createEndpoint' | 'deleteEndpoint' | 'deployModel' | 'undeployModel';

export interface EndpointOperationRecord {
  key: string;
  kind: EndpointOperationKind;
  /** The endpoint the operation belongs to (its name is the endpoint's name + /operations/{id}). */
  endpointRef: ResourceName;
  id: string;
  createTime: number;
  doneAt: number;
  done: boolean;
  /** DeployModel: the DeployedModel to create, its resolved model, the split to apply; UndeployModel: the id. */
  pending: {
    deployedModel?: Omit<DeployedModelRecord, 'id' | 'createTime'>;
    trafficSplit?: Record<string, number>;
    deployedModelId?: string;
    fail?: { code: number; message: string };
  };
  response?: Record<string, unknown>;
  error?: { code: number; message: string };
}

export interface StoredPredictRule extends PredictRuleInput {
  id: number;
}

export interface StoredDeployScript extends DeployScriptInput {
  id: number;
  remaining?: number;
}

export interface StoredRule extends ScriptRuleInput {
  id: number;
  remaining?: number;
}

export interface StoredFault extends FaultInput {
  id: number;
  remaining?: number;
}

export interface EmulatorState {
  settings: Settings;
  jobs: Record<string, JobRecord>;
  models: Record<string, ModelRecord>;
  operations: Record<string, OperationRecord>;
  endpoints: Record<string, EndpointRecord>;
  endpointOperations: Record<string, EndpointOperationRecord>;
  rules: StoredRule[];
  /** How Predict answers per deployed model (the newest matching rule wins). */
  predictRules: StoredPredictRule[];
  /** How DeployModel and UndeployModel play out per project (the newest matching script wins). */
  deployScripts: StoredDeployScript[];
  faults: StoredFault[];
  nextId: number;
}

const emptyState = (): EmulatorState => ({
  settings: defaultSettings(),
  jobs: {},
  models: {},
  operations: {},
  endpoints: {},
  endpointOperations: {},
  rules: [],
  predictRules: [],
  deployScripts: [],
  faults: [],
  nextId: 1,
});

/**
 * All emulator state, in memory, optionally mirrored to a JSON file so `npm run dev` restarts keep
 * jobs, models and endpoints. The call log and the prediction log are kept in memory only: they
 * are for tests, not for restarts.
 */
export class Store {
  state: EmulatorState;
  calls: CallLogEntry[] = [];
  /** Every call by method since the last reset, beyond the log's window (benchmarks count these). */
  callCounts: Record<string, number> = {};
  callSeq = 0;
  /** Every Predict request served by a deployed model: what Cloud Monitoring's time series are computed from. */
  predictions: PredictionEntry[] = [];
  private saveTimer: NodeJS.Timeout | undefined;

  constructor(private readonly file?: string) {
    this.state = emptyState();
    if (file) {
      try {
        this.state = { ...emptyState(), ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<EmulatorState>) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          throw new Error(`cannot read emulator state ${file}: ${String(err)}`, { cause: err });
      }
    }
  }

  nextId(): number {
    return this.state.nextId++;
  }

  /** Debounced write-behind; a crash loses at most the last 100 ms, like any cache. */
  changed(): void {
    if (!this.file || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.flush();
    }, 100);
    this.saveTimer.unref();
  }

  flush(): void {
    if (!this.file) return;
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state));
    renameSync(tmp, this.file);
  }

  reset(): void {
    this.state = emptyState();
    this.calls = [];
    this.callCounts = {};
    this.predictions = [];
    this.changed();
  }
}
