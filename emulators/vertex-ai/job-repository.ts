import { status } from '@grpc/grpc-js';
import { JobScript, type JobKind } from './control-schema';
import { RpcError, invalidArgument, notFound } from './errors';
import { compileFilter, FilterError } from './filter';
import type { JobEngine } from './lifecycle';
import { clientName, parseParent, parseResourceName, projectNumberOf, storageKey, type ResourceName } from './names';
import { sameProject } from './policy';
import { toTimestamp } from './protos';
import type { JobRecord, Store } from './store';

/** How one call is served: `createdBefore` hides newer resources from a List (a stale listing). */
export interface CallContext {
  createdBefore?: number;
}

// What Create/Get/List/Cancel share across PipelineJob, CustomJob and BatchPredictionJob.

export const collectionOf: Record<JobKind, string> = {
  pipelineJob: 'pipelineJobs',
  customJob: 'customJobs',
  batchPredictionJob: 'batchPredictionJobs',
};
/** The resource type, as Vertex names it in its messages. */
const typeName: Record<JobKind, string> = {
  pipelineJob: 'PipelineJob',
  customJob: 'CustomJob',
  batchPredictionJob: 'BatchPredictionJob',
};
const statePrefix = (kind: JobKind) => (kind === 'pipelineJob' ? 'PIPELINE_STATE_' : 'JOB_STATE_');

export function stateName(job: JobRecord): string {
  return statePrefix(job.kind) + job.state;
}

/** The job as Vertex returns it: the client's fields plus the output-only ones. */
export function renderJob(job: JobRecord, projectNumbers: boolean, listView = false): Record<string, unknown> {
  const { jobDetail, modelDisplayName: _m, ...outputs } = job.outputs;
  return {
    ...job.resource,
    ...outputs,
    ...(jobDetail && !listView ? { jobDetail } : {}),
    name: clientName(job.ref, projectNumbers),
    state: stateName(job),
    createTime: toTimestamp(job.createTime),
    updateTime: toTimestamp(job.updateTime),
    ...(job.startTime ? { startTime: toTimestamp(job.startTime) } : {}),
    ...(job.endTime ? { endTime: toTimestamp(job.endTime) } : {}),
    // `error` is documented as set only when the job FAILED or was CANCELLED.
    ...(job.error && ['FAILED', 'CANCELLED', 'PARTIALLY_SUCCEEDED'].includes(job.state) ? { error: job.error } : {}),
    ...(job.modelVersionId ? { modelVersionId: job.modelVersionId } : {}),
  };
}

export class JobRepository {
  constructor(
    private readonly store: Store,
    private readonly engine: JobEngine,
  ) {}

  create(
    kind: JobKind,
    parent: string,
    id: string,
    resource: Record<string, unknown>,
    extra: Partial<JobRecord> = {},
  ): JobRecord {
    const p = parseParent(parent);
    const ref: ResourceName = { ...p, collection: collectionOf[kind], id };
    const key = storageKey(ref);
    if (this.store.state.jobs[key]) {
      throw new RpcError(
        status.ALREADY_EXISTS,
        kind === 'pipelineJob'
          ? 'Pipeline job with the specified ID already exists.'
          : `${typeName[kind]} ${id} already exists.`,
      );
    }
    const now = Date.now();
    const labels = (resource.labels ?? {}) as Record<string, string>;
    const job: JobRecord = {
      kind,
      key,
      seq: this.store.nextId(),
      ref,
      resource,
      state: 'QUEUED',
      createTime: now,
      updateTime: now,
      script: this.scriptFor(kind, p.project, resource, labels, id),
      outputs: {},
      cancelRequested: false,
      ...extra,
    };
    this.engine.initialise(job);
    this.store.state.jobs[key] = job;
    this.store.changed();
    return job;
  }

  get(kind: JobKind, name: unknown): JobRecord {
    const ref = parseResourceName(name, collectionOf[kind]);
    const job = this.store.state.jobs[storageKey(ref)];
    if (!job) throw notFound(typeName[kind], String(name));
    return job;
  }

  cancel(kind: JobKind, name: unknown): void {
    const job = this.get(kind, name);
    this.engine.cancel(job, stateName(job));
  }

  list(
    kind: JobKind,
    req: { parent?: string; filter?: string; pageSize?: number; pageToken?: string },
    allowedFields: readonly string[],
    ctx: CallContext = {},
  ) {
    const p = parseParent(req.parent);
    const prefix = `projects/${projectNumberOf(p.project)}/locations/${p.location}/${collectionOf[kind]}/`;
    let matches: (j: JobRecord) => boolean;
    try {
      const f = compileFilter(req.filter ?? '', allowedFields);
      matches = (j) =>
        f({
          labels: (j.resource.labels ?? {}) as Record<string, string>,
          fields: {
            state: stateName(j),
            display_name: j.resource.displayName as string | undefined,
            create_time: new Date(j.createTime).toISOString(),
            update_time: new Date(j.updateTime).toISOString(),
            end_time: j.endTime ? new Date(j.endTime).toISOString() : undefined,
            pipeline_name: pipelineName(j),
            model_display_name: j.outputs.modelDisplayName as string | undefined,
          },
        });
    } catch (err) {
      if (err instanceof FilterError) throw invalidArgument([{ field: 'filter', message: err.message }]);
      throw err;
    }
    const all = Object.values(this.store.state.jobs)
      .filter((j) => j.kind === kind && j.key.startsWith(prefix) && matches(j))
      .filter((j) => ctx.createdBefore === undefined || j.createTime < ctx.createdBefore)
      .sort((a, b) => b.createTime - a.createTime || b.seq - a.seq); // create_time desc, Vertex's default
    return paginate(all, req);
  }

  /** Scripted behaviour: defaults, then the first matching control-API rule, then labels. */
  private scriptFor(
    kind: JobKind,
    project: string,
    resource: Record<string, unknown>,
    labels: Record<string, string>,
    id: string,
  ): JobScript {
    const rules = this.store.state.rules;
    const rule = rules.find((r) => {
      const m = r.match ?? {};
      return (
        (!m.kind || m.kind === kind) &&
        (!m.project || sameProject(m.project, project)) &&
        (!m.displayName || m.displayName === resource.displayName) &&
        (!m.pipelineJobId || m.pipelineJobId === id) &&
        Object.entries(m.labels ?? {}).every(([k, v]) => labels[k] === v)
      );
    });
    let script = JobScript.parse(rule?.script ?? {});
    if (rule?.remaining !== undefined && --rule.remaining <= 0) rules.splice(rules.indexOf(rule), 1);
    const outcome = labels['vertex-emulator-outcome']?.toUpperCase();
    const runMs = Number(labels['vertex-emulator-run-ms']);
    if (outcome) script = { ...script, outcome: JobScript.shape.outcome.parse(outcome) };
    if (Number.isFinite(runMs) && runMs >= 0) script = { ...script, runningMs: runMs };
    if (kind === 'pipelineJob' && (script.outcome === 'EXPIRED' || script.outcome === 'PARTIALLY_SUCCEEDED')) {
      // PipelineState has neither: a pipeline scripted so fails instead, which a test will notice.
      script = {
        ...script,
        outcome: 'FAILED',
        error: { code: 3, message: `PipelineJobs cannot end ${script.outcome}.` },
      };
    }
    return script;
  }
}

function pipelineName(j: JobRecord): string | undefined {
  const spec = j.resource.pipelineSpec as
    { fields?: { pipelineInfo?: { structValue?: { fields?: { name?: { stringValue?: string } } } } } } | undefined;
  return spec?.fields?.pipelineInfo?.structValue?.fields?.name?.stringValue;
}

const MAX_PAGE = 1000;
const DEFAULT_PAGE = 100;

/** Page tokens are opaque to clients; ours carry the offset and are bound to the filter. */
export function paginate<T>(
  all: T[],
  req: { filter?: string; pageSize?: number; pageToken?: string },
): { items: T[]; nextPageToken: string } {
  const size = Math.min(req.pageSize && req.pageSize > 0 ? req.pageSize : DEFAULT_PAGE, MAX_PAGE);
  let offset = 0;
  if (req.pageToken) {
    try {
      const t = JSON.parse(Buffer.from(req.pageToken, 'base64url').toString('utf8')) as { o: number; f: string };
      if (t.f !== (req.filter ?? '') || !Number.isInteger(t.o) || t.o < 0) throw new Error('mismatch');
      offset = t.o;
    } catch {
      throw invalidArgument([
        { field: 'page_token', message: 'The page token is invalid or was issued for a different filter.' },
      ]);
    }
  }
  const items = all.slice(offset, offset + size);
  const next =
    offset + size < all.length
      ? Buffer.from(JSON.stringify({ o: offset + size, f: req.filter ?? '' })).toString('base64url')
      : '';
  return { items, nextPageToken: next };
}
