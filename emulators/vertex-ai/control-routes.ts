import { z } from 'zod';
import {
  DeployScript,
  Fault,
  JobScript,
  PredictRule,
  ScriptRule,
  Settings,
  SettingsPatch,
  type EndpointView,
  type JobView,
} from './control-schema';
import { collectionOf, stateName } from './job-repository';
import type { JobEngine } from './lifecycle';
import { clientName, parseResourceName, storageKey } from './names';
import { sameProject, type CallPolicy } from './policy';
import { TERMINAL, type EndpointRecord, type JobRecord, type Store } from './store';

// The control API's routes, one table per resource ("METHOD /path" → handler); control-api.ts
// serves them. The client for all of them is control-client.ts.

/** An answer with this HTTP status and `{ error: message }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Answers one request: its JSON body ({} when empty) and query; the result is sent as JSON. */
export type Route = (body: unknown, query: URLSearchParams) => unknown;
export type RouteTable = Record<string, Route>;

const NameBody = z.strictObject({ name: z.string().min(1) });
const ScriptBody = z.strictObject({ name: z.string().min(1), script: JobScript.partial() });

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body);
  if (!r.success) throw new HttpError(400, z.prettifyError(r.error));
  return r.data;
}

// ?project=X narrows a read or a clear to one project (id or number), so a test that owns a
// project sees and removes only its own jobs, calls, rules, faults and models.
const inProject = (q: URLSearchParams, project: string | undefined) =>
  !q.get('project') || (project !== undefined && sameProject(project, q.get('project')!));

export function healthRoutes(ports: { grpcPort: number; tlsPort?: number }, methods: string[] = []): RouteTable {
  return {
    'GET /health': () => ({ ok: true, grpcPort: ports.grpcPort, tlsPort: ports.tlsPort }),
    'GET /methods': () => methods,
  };
}

// parent or name (ListTimeSeries' is projects/{p} alone); Predict and DeployModel name their endpoint.
const projectOfCall = (request: unknown) =>
  /"(?:parent|name|endpoint)":"projects\/([^/"]+)["/]/.exec(JSON.stringify(request ?? {}))?.[1];

/** The call log: every RPC the emulator answered. */
export function callRoutes(store: Store): RouteTable {
  return {
    'GET /calls': (_b, q) =>
      store.calls.filter(
        (c) =>
          (!q.get('method') || c.method === q.get('method')) &&
          c.seq > Number(q.get('after') ?? 0) &&
          inProject(q, projectOfCall(c.request)),
      ),
    'DELETE /calls': () => ((store.calls = []), (store.callCounts = {}), {}),
    'GET /calls/counts': () => store.callCounts,
  };
}

function jobView(store: Store, j: JobRecord): JobView {
  return {
    kind: j.kind,
    name: clientName(j.ref, store.state.settings.projectNumbers),
    state: stateName(j),
    displayName: j.resource.displayName as string | undefined,
    labels: (j.resource.labels ?? {}) as Record<string, string>,
    createTime: new Date(j.createTime).toISOString(),
    startTime: j.startTime ? new Date(j.startTime).toISOString() : undefined,
    endTime: j.endTime ? new Date(j.endTime).toISOString() : undefined,
    error: j.error,
    script: j.script,
    cancelRequested: j.cancelRequested,
    ...(typeof j.resource.model === 'string' ? { model: j.resource.model } : {}),
    ...(j.modelVersionId ? { modelVersionId: j.modelVersionId } : {}),
  };
}

function findJob(store: Store, name: string): JobRecord {
  const collection = /\/locations\/[^/]+\/([^/]+)\//.exec(name)?.[1];
  const kind = Object.entries(collectionOf).find(([, c]) => c === collection)?.[0];
  if (!kind) throw new HttpError(400, `"${name}" is not a job name`);
  const job = store.state.jobs[storageKey(parseResourceName(name, collection!))];
  if (!job) throw new HttpError(404, `no job ${name}`);
  return job;
}

const hasLabels = (j: JobRecord, labels: string[]) =>
  labels.every(
    (l) =>
      (j.resource.labels as Record<string, string> | undefined)?.[l.split('=')[0]!] === l.split('=').slice(1).join('='),
  );

/** Jobs of every kind: what they are now, and scripting what they do next. */
export function jobRoutes(store: Store, engine: JobEngine): RouteTable {
  return {
    'GET /jobs': (_b, q) =>
      Object.values(store.state.jobs)
        .filter((j) => !q.get('kind') || j.kind === q.get('kind'))
        .filter((j) => inProject(q, j.ref.project))
        .filter((j) => hasLabels(j, q.getAll('label')))
        .map((j) => jobView(store, j)),
    'GET /job': (_b, q) => jobView(store, findJob(store, q.get('name') ?? '')),
    'POST /jobs/script': (b) => {
      const { name, script } = parse(ScriptBody, b);
      const job = findJob(store, name);
      job.script = JobScript.parse({ ...job.script, ...script });
      if (job.dueAt === undefined && script.holdIn === undefined && job.script.holdIn !== job.state)
        engine.initialiseFrom(job);
      store.changed();
      return jobView(store, job);
    },
    'POST /jobs/advance': async (b) => {
      const job = findJob(store, parse(NameBody, b).name);
      await engine.advance(job);
      return jobView(store, job);
    },
    // Someone deleting the job on Vertex (console, gcloud): nothing the coordinator does, so the
    // Delete*Job LROs are not served; only what a reader then sees (NOT_FOUND). Vertex deletes
    // only ended jobs, and so does this.
    'POST /jobs/delete': (b) => {
      const job = findJob(store, parse(NameBody, b).name);
      if (!TERMINAL.has(job.state))
        throw new HttpError(409, `job ${job.key} is ${stateName(job)}: Vertex deletes only ended jobs`);
      delete store.state.jobs[job.key];
      store.changed();
      return {};
    },
  };
}

/** Rules that script jobs created from now on. */
export function ruleRoutes(store: Store): RouteTable {
  return {
    'GET /rules': () => store.state.rules,
    'POST /rules': (b) => {
      const rule = parse(ScriptRule, b);
      const id = store.nextId();
      store.state.rules.push({ ...rule, id, remaining: rule.times });
      return { id };
    },
    // Job rules, predict rules and deploy scripts alike: everything a test scripted.
    'DELETE /rules': (_b, q) => {
      const s = store.state;
      const scoped = !!q.get('project');
      s.rules = scoped ? s.rules.filter((r) => !r.match?.project || !inProject(q, r.match.project)) : [];
      s.predictRules = scoped ? s.predictRules.filter((r) => !inProject(q, r.match.project)) : [];
      s.deployScripts = scoped ? s.deployScripts.filter((r) => !inProject(q, r.match.project)) : [];
      return {};
    },
  };
}

/** Faults injected into RPCs (rpc-middleware.ts applies them). */
export function faultRoutes(store: Store): RouteTable {
  return {
    'GET /faults': () => store.state.faults,
    'POST /faults': (b) => {
      const fault = parse(Fault, b);
      const id = store.nextId();
      store.state.faults.push({
        ...fault,
        id,
        remaining: fault.times ?? (fault.probability === undefined ? 1 : undefined),
      });
      return { id };
    },
    // ?project=X clears only that project's faults, so parallel tests keep theirs.
    'DELETE /faults': (_b, q) => {
      const project = q.get('project');
      store.state.faults = project
        ? store.state.faults.filter((f) => !f.project || !sameProject(f.project, project))
        : [];
      return {};
    },
  };
}

/** Emulator-wide settings (default durations, quotas, latency, project numbers), and a reset of everything. */
export function settingsRoutes(store: Store, policy: CallPolicy): RouteTable {
  return {
    'GET /settings': () => store.state.settings,
    'PATCH /settings': (b) => {
      const patch = parse(SettingsPatch, b);
      const s = store.state.settings;
      store.state.settings = Settings.parse({
        ...s,
        ...patch,
        defaults: { ...s.defaults, ...patch.defaults },
        quota: { ...s.quota, ...patch.quota },
      });
      policy.resetWindows();
      store.changed();
      return store.state.settings;
    },
    'POST /reset': () => {
      store.reset();
      policy.resetWindows();
      return {};
    },
  };
}

/** The Model Registry's models and their versions. */
export function modelRoutes(store: Store): RouteTable {
  return {
    'GET /models': (_b, q) =>
      Object.values(store.state.models)
        .filter((m) => inProject(q, m.ref.project))
        .map((m) => ({
          name: clientName(m.ref, store.state.settings.projectNumbers),
          versions: m.versions.map((v) => ({
            versionId: v.versionId,
            aliases: v.aliases,
            displayName: v.resource.displayName,
            labels: v.resource.labels,
            createTime: new Date(v.createTime).toISOString(),
            updateTime: new Date(v.updateTime).toISOString(),
          })),
          aliasHistory: (m.aliasHistory ?? []).map((c) => ({ ...c, at: new Date(c.at).toISOString() })),
        })),
  };
}

function endpointView(store: Store, e: EndpointRecord): EndpointView {
  const numbers = store.state.settings.projectNumbers;
  return {
    name: clientName(e.ref, numbers),
    endpointId: e.ref.id,
    displayName: e.resource.displayName as string | undefined,
    labels: (e.resource.labels ?? {}) as Record<string, string>,
    deployedModels: e.deployedModels.map((d) => ({
      id: d.id,
      model: clientName(d.modelRef, numbers),
      modelVersionId: d.modelVersionId,
      displayName: d.resource.displayName as string | undefined,
      dedicatedResources: d.resource.dedicatedResources,
    })),
    trafficSplit: e.trafficSplit,
  };
}

/** Endpoints and online prediction: what is deployed, what was served, and scripting both. */
export function endpointRoutes(store: Store): RouteTable {
  return {
    'GET /endpoints': (_b, q) =>
      Object.values(store.state.endpoints)
        .filter((e) => inProject(q, e.ref.project))
        .map((e) => endpointView(store, e)),
    'GET /predictions': (_b, q) =>
      store.predictions.filter(
        (p) => inProject(q, p.project) && (!q.get('endpointId') || p.endpointId === q.get('endpointId')),
      ),
    'POST /predict-rules': (b) => {
      const id = store.nextId();
      store.state.predictRules.push({ ...parse(PredictRule, b), id });
      store.changed();
      return { id };
    },
    'POST /deploy-scripts': (b) => {
      const script = parse(DeployScript, b);
      const id = store.nextId();
      store.state.deployScripts.push({ ...script, id, remaining: script.times });
      store.changed();
      return { id };
    },
  };
}
