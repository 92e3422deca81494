import http from 'node:http';
import { z } from 'zod';
import { attachConnectProxy } from './connect-proxy';
import { Fault, JobScript, ScriptRule, Settings, SettingsPatch, type JobView } from './control-schema';
import { RpcError } from './errors';
import { collectionOf, stateName } from './job-repository';
import type { JobEngine } from './lifecycle';
import { clientName, parseResourceName, storageKey } from './names';
import type { TokenIssuer } from './oauth';
import { sameProject, type CallPolicy } from './policy';
import { TERMINAL, type JobRecord, type Store } from './store';

// Inspection and control on a side port (HTTP JSON): what tests and people use to see what the
// emulator was asked and to script how Vertex behaves. Not part of the Vertex API.

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const NameBody = z.strictObject({ name: z.string().min(1) });
const ScriptBody = z.strictObject({ name: z.string().min(1), script: JobScript.partial() });

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body);
  if (!r.success) throw new HttpError(400, z.prettifyError(r.error));
  return r.data;
}

export interface ControlApiOptions {
  host?: string;
  port: number;
  store: Store;
  engine: JobEngine;
  policy: CallPolicy;
  grpcPort: number;
  /** With TLS: the emulator's TLS port, for /health and the CONNECT proxy to Vertex's host names. */
  tlsPort?: number;
  /** Serves POST /token (OAuth2: JWT-bearer and refresh-token grants) when given. */
  tokens?: TokenIssuer;
  /** The RPCs the gRPC server serves, listed by GET /methods. */
  methods?: string[];
}

export function startControlApi(opts: ControlApiOptions) {
  const { store, engine, policy } = opts;
  const view = (j: JobRecord): JobView => ({
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
  });
  const findJob = (name: string): JobRecord => {
    const collection = /\/locations\/[^/]+\/([^/]+)\//.exec(name)?.[1];
    const kind = Object.entries(collectionOf).find(([, c]) => c === collection)?.[0];
    if (!kind) throw new HttpError(400, `"${name}" is not a job name`);
    const job = store.state.jobs[storageKey(parseResourceName(name, collection!))];
    if (!job) throw new HttpError(404, `no job ${name}`);
    return job;
  };

  // ?project=X narrows a read or a clear to one project (id or number), so a test that owns a
  // project sees and removes only its own jobs, calls, rules, faults and models.
  const inProject = (q: URLSearchParams, project: string | undefined) =>
    !q.get('project') || (project !== undefined && sameProject(project, q.get('project')!));
  const projectOfCall = (request: unknown) =>
    /"(?:parent|name)":"projects\/([^/"]+)\//.exec(JSON.stringify(request ?? {}))?.[1];

  const routes: Record<string, (body: unknown, q: URLSearchParams) => unknown> = {
    'GET /health': () => ({ ok: true, grpcPort: opts.grpcPort, tlsPort: opts.tlsPort }),
    'GET /calls': (_b, q) =>
      store.calls.filter(
        (c) =>
          (!q.get('method') || c.method === q.get('method')) &&
          c.seq > Number(q.get('after') ?? 0) &&
          inProject(q, projectOfCall(c.request)),
      ),
    'DELETE /calls': () => ((store.calls = []), (store.callCounts = {}), {}),
    'GET /calls/counts': () => store.callCounts,
    'GET /methods': () => opts.methods ?? [],
    'GET /jobs': (_b, q) =>
      Object.values(store.state.jobs)
        .filter((j) => !q.get('kind') || j.kind === q.get('kind'))
        .filter((j) => inProject(q, j.ref.project))
        .filter((j) =>
          q
            .getAll('label')
            .every(
              (l) =>
                (j.resource.labels as Record<string, string> | undefined)?.[l.split('=')[0]!] ===
                l.split('=').slice(1).join('='),
            ),
        )
        .map(view),
    'GET /job': (_b, q) => view(findJob(q.get('name') ?? '')),
    'POST /jobs/script': (b) => {
      const { name, script } = parse(ScriptBody, b);
      const job = findJob(name);
      job.script = JobScript.parse({ ...job.script, ...script });
      if (job.dueAt === undefined && script.holdIn === undefined && job.script.holdIn !== job.state)
        engine.initialiseFrom(job);
      store.changed();
      return view(job);
    },
    'POST /jobs/advance': async (b) => {
      const job = findJob(parse(NameBody, b).name);
      await engine.advance(job);
      return view(job);
    },
    // Someone deleting the job on Vertex (console, gcloud): nothing the coordinator does, so the
    // Delete*Job LROs are not served; only what a reader then sees (NOT_FOUND). Vertex deletes
    // only ended jobs, and so does this.
    'POST /jobs/delete': (b) => {
      const job = findJob(parse(NameBody, b).name);
      if (!TERMINAL.has(job.state))
        throw new HttpError(409, `job ${job.key} is ${stateName(job)}: Vertex deletes only ended jobs`);
      delete store.state.jobs[job.key];
      store.changed();
      return {};
    },
    'GET /rules': () => store.state.rules,
    'POST /rules': (b) => {
      const rule = parse(ScriptRule, b);
      const id = store.nextId();
      store.state.rules.push({ ...rule, id, remaining: rule.times });
      return { id };
    },
    'DELETE /rules': (_b, q) => (
      (store.state.rules = q.get('project')
        ? store.state.rules.filter((r) => !r.match?.project || !inProject(q, r.match.project))
        : []),
      {}
    ),
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
          })),
        })),
    'POST /reset': () => {
      store.reset();
      policy.resetWindows();
      return {};
    },
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = routes[`${req.method} ${url.pathname}`];
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      // OAuth2 speaks form-encoded requests and its own error body (RFC 6749 §5), not this API's JSON.
      if (opts.tokens && req.method === 'POST' && url.pathname === '/token') {
        const answer = opts.tokens.grant(Object.fromEntries(new URLSearchParams(raw)));
        res
          .writeHead(answer.status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
          .end(JSON.stringify(answer.body));
        return;
      }
      void (async () => {
        try {
          if (!route) throw new HttpError(404, `no route ${req.method} ${url.pathname}`);
          const body: unknown = raw ? JSON.parse(raw) : {};
          const out = await route(body, url.searchParams);
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
        } catch (err) {
          const code =
            err instanceof HttpError ? err.status : err instanceof RpcError || err instanceof SyntaxError ? 400 : 500;
          res
            .writeHead(code, { 'content-type': 'application/json' })
            .end(JSON.stringify({ error: (err as Error).message }));
        }
      })();
    });
  });
  // Clients keep connections alive (fetch does, for a Keep-Alive timeout minus a second): with
  // Node's default 5 s, a request sent as the server closes the idle socket fails with "other side
  // closed" on a loaded machine. Idle connections outlive any gap between a test's calls instead.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  if (opts.tlsPort !== undefined) {
    attachConnectProxy(server, opts.tlsPort, (d) => {
      if (!d.allowed) console.warn(`vertex-ai emulator: proxy refused CONNECT ${d.target}`);
    });
  }
  return new Promise<http.Server>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve(server));
  });
}
