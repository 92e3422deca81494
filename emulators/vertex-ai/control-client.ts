import type {
  CallLogEntry,
  DeployScriptInput,
  EndpointView,
  FaultInput,
  PredictionEntry,
  PredictRuleInput,
  JobKind,
  JobScriptInput,
  JobView,
  ModelView,
  ScriptRuleInput,
  Settings,
  SettingsPatch,
} from './control-schema';

export class ControlApiError extends Error {
  override name = 'ControlApiError';
}

/** A typed client for the emulator's control API, for tests and scripts. */
export class VertexEmulatorControl {
  constructor(readonly baseUrl: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as T & { error?: string };
    if (!res.ok) throw new ControlApiError(`${method} ${path}: ${res.status} ${json.error ?? ''}`);
    return json;
  }

  health = () => this.call<{ ok: boolean; grpcPort: number }>('GET', '/health');

  calls = (opts: { method?: string; after?: number; project?: string } = {}) => {
    const q = new URLSearchParams();
    if (opts.project) q.set('project', opts.project);
    if (opts.method) q.set('method', opts.method);
    if (opts.after) q.set('after', String(opts.after));
    return this.call<CallLogEntry[]>('GET', `/calls?${q.toString()}`);
  };

  clearCalls = () => this.call<object>('DELETE', '/calls');

  /** Calls by method since the last reset: the log keeps the last 10,000, these count all. */
  callCounts = () => this.call<Record<string, number>>('GET', '/calls/counts');

  jobs = (opts: { kind?: JobKind; labels?: Record<string, string>; project?: string } = {}) => {
    const q = new URLSearchParams();
    if (opts.project) q.set('project', opts.project);
    if (opts.kind) q.set('kind', opts.kind);
    for (const [k, v] of Object.entries(opts.labels ?? {})) q.append('label', `${k}=${v}`);
    return this.call<JobView[]>('GET', `/jobs?${q.toString()}`);
  };

  job = (name: string) => this.call<JobView>('GET', `/job?name=${encodeURIComponent(name)}`);

  /** Changes how an existing job plays out (outcome, hold, durations, cancel race…). */
  scriptJob = (name: string, script: Partial<JobScriptInput>) =>
    this.call<JobView>('POST', '/jobs/script', { name, script });

  /** Performs the job's next transition now, even if it is held in its state. */
  advance = (name: string) => this.call<JobView>('POST', '/jobs/advance', { name });

  /** Deletes an ended job, as someone outside would on Vertex: every later read of it is NOT_FOUND. */
  deleteJob = (name: string) => this.call<object>('POST', '/jobs/delete', { name });

  /** Scripts jobs created from now on that match (first matching rule wins). */
  addRule = (rule: ScriptRuleInput) => this.call<{ id: number }>('POST', '/rules', rule);
  /** Clears every rule, or only those scoped to one project (`match.project`). */
  clearRules = (project?: string) =>
    this.call<object>('DELETE', `/rules${project ? `?project=${encodeURIComponent(project)}` : ''}`);

  addFault = (fault: FaultInput) => this.call<{ id: number }>('POST', '/faults', fault);
  /** Clears every fault, or only those scoped to one project. */
  clearFaults = (project?: string) =>
    this.call<object>('DELETE', `/faults${project ? `?project=${encodeURIComponent(project)}` : ''}`);

  settings = () => this.call<Settings>('GET', '/settings');
  patchSettings = (patch: SettingsPatch) => this.call<Settings>('PATCH', '/settings', patch);

  /** Models with their versions and the history of their aliases (which version held `champion` when). */
  models = (project?: string) =>
    this.call<ModelView[]>('GET', `/models${project ? `?project=${encodeURIComponent(project)}` : ''}`);

  /** Scripts Predict for the deployed models it matches (the newest matching rule wins; DELETE /rules clears it). */
  addPredictRule = (rule: PredictRuleInput) => this.call<{ id: number }>('POST', '/predict-rules', rule);

  /** Scripts how DeployModel and UndeployModel play out in a project (run time, or a failure). */
  addDeployScript = (script: DeployScriptInput) => this.call<{ id: number }>('POST', '/deploy-scripts', script);

  /** Endpoints with their deployed models and traffic split. */
  endpoints = (project?: string) =>
    this.call<EndpointView[]>('GET', `/endpoints${project ? `?project=${encodeURIComponent(project)}` : ''}`);

  /** The Predict requests deployed models served (what the Monitoring time series count). */
  predictions = (opts: { project?: string; endpointId?: string } = {}) => {
    const q = new URLSearchParams();
    if (opts.project) q.set('project', opts.project);
    if (opts.endpointId) q.set('endpointId', opts.endpointId);
    return this.call<PredictionEntry[]>('GET', `/predictions?${q.toString()}`);
  };

  reset = () => this.call<object>('POST', '/reset');
}

/** The most calls (by their times, ms) any window of `windowMs` holds: how the emulator's quota sees a burst. */
export function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (const [end, t] of sorted.entries()) {
    while (sorted[start]! <= t - windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/** The most jobs alive at once, as the emulator saw them: each lives from its creation to its end (or now). */
export function peakConcurrency(jobs: Pick<JobView, 'createTime' | 'endTime'>[]): number {
  const edges = jobs
    .flatMap((j) => [
      [Date.parse(j.createTime), 1] as const,
      [Date.parse(j.endTime ?? new Date().toISOString()), -1] as const,
    ])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let alive = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (alive += d));
  return peak;
}
