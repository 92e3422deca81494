// What a run cost, one shape for every place it is shown: the run's result, its status query, the
// UI's current details (all three filled in from the workflow side by
// workflows/interceptors/run-cost.ts) and `ct cost` (client/cost.ts, from the run's history). The
// estimate itself is written once, here, and is pure: workflows and clients call the same code.

/** The prices that apply to one run: its region's row of the price table (config/prices.yaml), carried in its plan. */
export interface Rates {
  region: string;
  asOf: string;
  currency: string;
  perMillionActions: number;
  /** Vertex AI Pipelines' fee per pipeline run. */
  pipelineRun: number;
  /** Custom training and batch prediction, per node-hour by machine type. */
  nodeHour: Record<string, number>;
}

/**
 * Temporal Cloud's billable actions, by kind: the one list both counts use, the run's own from the
 * commands it issues (workflows/interceptors/billed-actions.ts) and `ct cost`'s from its history
 * (observability/actions.ts says which event is which kind).
 */
export const actionKinds = [
  'start',
  'activity-attempt',
  'timer',
  'signal',
  'signal-sent',
  'update',
  'search-attribute-upsert',
  'memo-upsert',
  'child-start',
  'cancel-sent',
  'local-activity',
  'marker',
] as const;
export type ActionKind = (typeof actionKinds)[number];

export interface ActionCount {
  total: number;
  byKind: Partial<Record<ActionKind, number>>;
}

/** The machines a job runs on: a CustomJob's worker pools, a BatchPredictionJob's replicas. */
export interface Machines {
  machineType: string;
  replicaCount: number;
}

export interface JobCost {
  kind: string;
  job: string;
  state: string;
  /** Vertex's own running time: startTime to endTime. */
  hours: number;
  /** null: the table has no price for it (`how` says which). */
  usd: number | null;
  how: string;
}

export interface RunCost {
  actions: ActionCount;
  temporalUsd: number;
  vertex: { jobs: JobCost[]; usd: number };
  /** A prediction run's segments (each a run of its own, with its own actions and job). */
  children?: { runs: number; actions: number; usd: number };
  totalUsd: number;
  /** Prices of, and in: from the run's plan (absent before the plan is known). */
  asOf?: string;
  currency?: string;
}

/** Dollars and hours are reported to 6 decimals (a micro-dollar; 3.6 ms of an hour). */
export const roundMicros = (n: number) => Math.round(n * 1e6) / 1e6;

export const addCount = (byKind: Partial<Record<ActionKind, number>>, kind: ActionKind, n = 1): void =>
  void (byKind[kind] = (byKind[kind] ?? 0) + n);

export const actionCount = (byKind: Partial<Record<ActionKind, number>>): ActionCount => ({
  total: Object.values(byKind).reduce((a, b) => a + (b ?? 0), 0),
  byKind: { ...byKind },
});

/** One job's Vertex estimate: the pipeline fee for a PipelineJob, else machines × replicas × running time. */
export function jobCost(
  job: { kind: string; name?: string; state?: string; startTime?: string; endTime?: string },
  machines: Machines[] | undefined,
  rates: Rates | undefined,
): JobCost {
  const start = job.startTime ? Date.parse(job.startTime) : NaN;
  const end = job.endTime ? Date.parse(job.endTime) : NaN;
  const hours = Number.isFinite(start) && Number.isFinite(end) ? Math.max(0, end - start) / 3_600_000 : 0;
  const base = { kind: job.kind, job: job.name ?? '?', state: job.state ?? '?', hours: roundMicros(hours) };
  if (!rates) return { ...base, usd: null, how: 'no prices for its region' };
  if (job.kind === 'pipelineJob') return { ...base, usd: rates.pipelineRun, how: 'pipeline run fee' };
  const pools = machines ?? [];
  const missing = pools.filter((w) => rates.nodeHour[w.machineType] === undefined).map((w) => w.machineType);
  if (!pools.length || missing.length)
    return { ...base, usd: null, how: `no node-hour price for ${missing.join(', ') || 'its machines'}` };
  const usd = pools.reduce((sum, w) => sum + w.replicaCount * rates.nodeHour[w.machineType]! * hours, 0);
  return { ...base, usd: roundMicros(usd), how: pools.map((w) => `${w.replicaCount} × ${w.machineType}`).join(' + ') };
}

/** Sums a run's actions, its jobs and its children's costs at its rates. */
export function runCostOf(
  actions: ActionCount,
  jobs: JobCost[],
  rates: Pick<Rates, 'perMillionActions' | 'asOf' | 'currency'> | undefined,
  children?: RunCost['children'],
): RunCost {
  const temporalUsd = rates ? roundMicros((actions.total * rates.perMillionActions) / 1e6) : 0;
  const vertexUsd = roundMicros(jobs.reduce((s, j) => s + (j.usd ?? 0), 0));
  return {
    actions,
    temporalUsd,
    vertex: { jobs, usd: vertexUsd },
    ...(children ? { children } : {}),
    totalUsd: roundMicros(temporalUsd + vertexUsd + (children?.usd ?? 0)),
    ...(rates ? { asOf: rates.asOf, currency: rates.currency } : {}),
  };
}

/**
 * A one-line summary, for the UI's current details. No `$`: the UI's markdown takes a pair of them
 * for inline maths.
 */
export function costLine(c: RunCost): string {
  const kids = c.children ? ` + ${c.children.runs} segment run(s) ${c.children.usd}` : '';
  return `Cost so far: ${c.actions.total} Temporal actions ${c.temporalUsd} + Vertex ${c.vertex.usd}${kids} = ${c.totalUsd}${c.currency ? ` ${c.currency}` : ''}`;
}
