import { status } from '@grpc/grpc-js';
import { RpcError } from './errors';
import { projectNumberOf } from './names';
import type { Store, StoredFault } from './store';

// Fault injection, added latency and Vertex's per-minute quotas, applied to every Vertex call
// before (or, for "lost responses", after) its handler runs.

// Vertex's "Job or LRO submission requests" quota; every other Vertex method counts as a CRUD request.
const CREATE_METHODS = new Set([
  'CreatePipelineJob',
  'CreateCustomJob',
  'CreateBatchPredictionJob',
  'UploadModel',
  'CreateEndpoint',
  'DeleteEndpoint',
  'DeployModel',
  'UndeployModel',
]);
// Online prediction (30,000 a minute) and Cloud Monitoring have quotas of their own, not Vertex's CRUD one.
const OWN_QUOTA_METHODS = new Set(['Predict', 'ListTimeSeries']);

const codes = {
  UNAVAILABLE: status.UNAVAILABLE,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  INTERNAL: status.INTERNAL,
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
} as const;

const defaultMessages: Record<keyof typeof codes, string> = {
  UNAVAILABLE: 'The service is currently unavailable.',
  RESOURCE_EXHAUSTED: 'Resource has been exhausted (e.g. check quota).',
  DEADLINE_EXCEEDED: 'Deadline Exceeded',
  INTERNAL: 'Internal error encountered.',
  INVALID_ARGUMENT: 'Request contains an invalid argument.',
  PERMISSION_DENIED: "Permission 'aiplatform.pipelineJobs.create' denied on resource (or it may not exist).",
  FAILED_PRECONDITION: 'Precondition check failed.',
};

/** A project named by id or by number is the same project (Vertex returns names with numbers). */
export function sameProject(a: string, b: string): boolean {
  return projectNumberOf(a) === projectNumberOf(b);
}

export class CallPolicy {
  /** Call times per project, region and bucket, within the last minute. */
  private readonly window = new Map<string, number[]>();

  constructor(private readonly store: Store) {}

  latency(method: string): number {
    const l = this.store.state.settings.latencyMs;
    return l[method] ?? l['*'] ?? 0;
  }

  /**
   * Throws RESOURCE_EXHAUSTED with Vertex's message when the project is over its quota in the
   * region (Vertex's quotas are "per minute per region": each region of a project has its own).
   */
  checkQuota(method: string, project: string | undefined, region: string | undefined): void {
    const q = this.store.state.settings.quota;
    if (!q.enabled || !project || OWN_QUOTA_METHODS.has(method)) return;
    if (q.projects && !q.projects.some((p) => sameProject(p, project))) return;
    const create = CREATE_METHODS.has(method);
    const key = `${projectNumberOf(project)}:${region ?? ''}:${create ? 'create' : 'crud'}`;
    const now = Date.now();
    const recent = (this.window.get(key) ?? []).filter((t) => t > now - 60_000);
    const limit = create ? q.createsPerMinute : q.crudPerMinute;
    if (recent.length >= limit) {
      this.window.set(key, recent);
      const metric = create ? 'Job or LRO submission requests' : 'Resource management (CRUD) requests';
      throw new RpcError(
        status.RESOURCE_EXHAUSTED,
        `Quota exceeded for quota metric '${metric}' and limit '${metric} per minute per region' of service 'aiplatform.googleapis.com' for consumer 'project_number:${projectNumberOf(project)}'.`,
      );
    }
    recent.push(now);
    this.window.set(key, recent);
  }

  /** The fault that applies to this call, if any, consuming one of its `times`. */
  takeFault(method: string, project: string | undefined): StoredFault | undefined {
    const faults = this.store.state.faults;
    const fault = faults.find(
      (f) =>
        (f.method === '*' || f.method === method) &&
        (!f.project || (project !== undefined && sameProject(f.project, project))),
    );
    if (!fault) return undefined;
    if (fault.probability !== undefined && fault.times === undefined)
      return Math.random() < fault.probability ? fault : undefined;
    if (fault.remaining !== undefined && --fault.remaining <= 0) faults.splice(faults.indexOf(fault), 1);
    return fault;
  }

  static errorFor(fault: StoredFault): RpcError {
    const code = fault.code ?? 'UNAVAILABLE';
    return new RpcError(codes[code], fault.message ?? defaultMessages[code]);
  }

  resetWindows(): void {
    this.window.clear();
  }
}
