import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { Prices } from '../config/prices';
import { searchAttributes as sa } from '../contracts/search-attributes';
import { countActions, type ActionCount } from '../observability/actions';

// What a run cost, from its own history: Temporal Cloud actions (observability/actions.ts) and an
// estimate of its Vertex AI bill from the price table (config/prices.yaml): a PipelineJob's
// per-run fee (its components' machines are not in the run's plan, so not priced), a CustomJob's
// machine type × replicas × running time, for every attempt's job.

type Event = temporal.api.history.v1.IHistoryEvent;

export interface JobCost {
  kind: string;
  job: string;
  state: string;
  hours: number;
  usd: number | null;
  how: string;
}

export interface RunCost {
  workflowId: string;
  runId?: string;
  actions: ActionCount;
  temporalUsd: number;
  vertex: { jobs: JobCost[]; usd: number };
  totalUsd: number;
}

interface PlanLike {
  region?: string;
  training?: { kind?: string; workerPoolSpecs?: { machineType: string; replicaCount: number }[] };
}
interface ProgressLike {
  terminal?: boolean;
  state?: string;
  startTime?: string;
  endTime?: string;
  job?: { kind?: string; name?: string };
}

const decode = (p: temporal.api.common.v1.IPayloads | null | undefined): unknown =>
  p?.payloads?.[0] ? defaultPayloadConverter.fromPayload(p.payloads[0]) : undefined;

const round = (n: number) => Math.round(n * 1e6) / 1e6;

export function costOfHistory(workflowId: string, events: Event[], prices: Prices): RunCost {
  const scheduled = new Map<string, string>();
  let plan: PlanLike | undefined;
  const ended: ProgressLike[] = [];
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(e.eventId), s.activityType?.name ?? '');
    const c = e.activityTaskCompletedEventAttributes;
    if (!c) continue;
    const type = scheduled.get(String(c.scheduledEventId));
    if (type === 'resolveTrainingRun') plan = decode(c.result) as PlanLike;
    if (type === 'awaitTrainingJob') {
      const p = decode(c.result) as ProgressLike;
      if (p.terminal) ended.push(p);
    }
  }
  const table = plan?.region ? prices.vertex[plan.region] : undefined;
  const jobs: JobCost[] = ended.map((p) => {
    const kind = p.job?.kind ?? 'unknown';
    const start = p.startTime ? Date.parse(p.startTime) : NaN;
    const end = p.endTime ? Date.parse(p.endTime) : NaN;
    const hours = Number.isFinite(start) && Number.isFinite(end) ? Math.max(0, end - start) / 3_600_000 : 0;
    const base = { kind, job: p.job?.name ?? '?', state: p.state ?? '?', hours: round(hours) };
    if (!table) return { ...base, usd: null, how: `no prices for region ${plan?.region ?? '?'}` };
    if (kind === 'pipelineJob') return { ...base, usd: table.pipelineRun, how: 'pipeline run fee' };
    const pools = plan?.training?.workerPoolSpecs ?? [];
    const missing = pools.filter((w) => table.nodeHour[w.machineType] === undefined).map((w) => w.machineType);
    if (!pools.length || missing.length)
      return { ...base, usd: null, how: `no node-hour price for ${missing.join(', ') || 'its machines'}` };
    const usd = pools.reduce((sum, w) => sum + w.replicaCount * table.nodeHour[w.machineType]! * hours, 0);
    return { ...base, usd: round(usd), how: pools.map((w) => `${w.replicaCount} × ${w.machineType}`).join(' + ') };
  });
  const actions = countActions(events);
  const temporalUsd = round((actions.total * prices.temporal.perMillionActions) / 1e6);
  const vertexUsd = round(jobs.reduce((s, j) => s + (j.usd ?? 0), 0));
  return {
    workflowId,
    actions,
    temporalUsd,
    vertex: { jobs, usd: vertexUsd },
    totalUsd: round(temporalUsd + vertexUsd),
  };
}

export async function runCost(client: Client, workflowId: string, prices: Prices): Promise<RunCost> {
  const handle = client.workflow.getHandle(workflowId);
  const history = await handle.fetchHistory();
  const cost = costOfHistory(workflowId, history.events ?? [], prices);
  const first = history.events?.[0];
  return { ...cost, runId: first?.workflowExecutionStartedEventAttributes?.originalExecutionRunId ?? undefined };
}

export interface CostReport {
  since: string;
  groups: {
    pipeline: string;
    environment: string;
    runs: number;
    actions: number;
    temporalUsd: number;
    vertexUsd: number;
    totalUsd: number;
  }[];
  prices: { asOf: string; currency: string };
}

/** Closed training runs since a time, summed by pipeline and environment. */
export async function costReport(
  client: Client,
  opts: { since: Date; environment: string; pipeline?: string; limit?: number },
  prices: Prices,
): Promise<CostReport> {
  const query = [
    'WorkflowType = "trainingRun"',
    'ExecutionStatus != "Running"',
    `CloseTime > "${opts.since.toISOString()}"`,
    `${sa.environment.name} = "${opts.environment}"`,
    ...(opts.pipeline ? [`${sa.pipeline.name} = "${opts.pipeline}"`] : []),
  ].join(' AND ');
  const groups = new Map<string, CostReport['groups'][number]>();
  let n = 0;
  for await (const wf of client.workflow.list({ query })) {
    if (++n > (opts.limit ?? 1000)) break;
    const pipeline = String(wf.searchAttributes[sa.pipeline.name]?.[0] ?? '?');
    const cost = costOfHistory(
      wf.workflowId,
      (await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()).events ?? [],
      prices,
    );
    const key = `${pipeline}/${opts.environment}`;
    const g = groups.get(key) ?? {
      pipeline,
      environment: opts.environment,
      runs: 0,
      actions: 0,
      temporalUsd: 0,
      vertexUsd: 0,
      totalUsd: 0,
    };
    g.runs++;
    g.actions += cost.actions.total;
    g.temporalUsd = round(g.temporalUsd + cost.temporalUsd);
    g.vertexUsd = round(g.vertexUsd + cost.vertex.usd);
    g.totalUsd = round(g.temporalUsd + g.vertexUsd);
    groups.set(key, g);
  }
  return {
    since: opts.since.toISOString(),
    groups: [...groups.values()].sort((a, b) => a.pipeline.localeCompare(b.pipeline)),
    prices: { asOf: prices.asOf, currency: prices.currency },
  };
}
