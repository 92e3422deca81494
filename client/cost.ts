import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { ratesFor, type Prices } from '../config/prices';
import {
  jobCost,
  roundMicros,
  runCostOf,
  type JobCost,
  type Machines,
  type Rates,
  type RunCost,
} from '../contracts/cost';
import { searchAttributes as sa } from '../contracts/search-attributes';
import { countActions } from '../observability/actions';

// What a run cost, from its own history: Temporal Cloud actions (observability/actions.ts, exact:
// activity retries included) and an estimate of its Vertex AI bill from the price table
// (config/prices.yaml) by contracts/cost.ts, the same code the run's own estimate uses: a
// PipelineJob's per-run fee (its components' machines are not in the run's plan), a CustomJob's
// machine type × replicas × running time for every attempt's job, a BatchPredictionJob's machine
// type × starting replicas × running time.

type Event = temporal.api.history.v1.IHistoryEvent;

export interface RunCostReport extends RunCost {
  workflowId: string;
  runId?: string;
}

interface PlanLike {
  rates?: Rates;
  region?: string;
  training?: { kind?: string; workerPoolSpecs?: Machines[] };
  job?: { machine?: { machineType: string; startingReplicaCount: number } };
}
interface ProgressLike {
  terminal?: boolean;
  state?: string;
  startTime?: string;
  endTime?: string;
  job?: { kind?: string; name?: string };
}

const planActivities = new Set(['resolveTrainingRun', 'resolveSegmentPrediction', 'planPrediction']);
const watchKinds: Record<string, string | undefined> = {
  awaitTrainingJob: undefined,
  awaitBatchPrediction: 'batchPredictionJob',
};

const decode = (p: temporal.api.common.v1.IPayloads | null | undefined): unknown =>
  p?.payloads?.[0] ? defaultPayloadConverter.fromPayload(p.payloads[0]) : undefined;

/**
 * One run's (one generation's) own cost from its history. The prices are today's table for the
 * run's region (a run planned before plans carried prices has only its region), not the run's own.
 */
export function costOfHistory(workflowId: string, events: Event[], prices: Prices): RunCostReport {
  const scheduled = new Map<string, string>();
  let plan: PlanLike | undefined;
  const ended: { kind: string; p: ProgressLike }[] = [];
  let served: JobCost | undefined;
  for (const e of events) {
    const done = e.workflowExecutionCompletedEventAttributes;
    if (done) served = servedCost(decode(done.result));
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(e.eventId), s.activityType?.name ?? '');
    const c = e.activityTaskCompletedEventAttributes;
    if (!c) continue;
    const type = scheduled.get(String(c.scheduledEventId)) ?? '';
    if (planActivities.has(type)) plan = { ...plan, ...(decode(c.result) as PlanLike) };
    if (type in watchKinds) {
      const p = decode(c.result) as ProgressLike;
      if (p.terminal) ended.push({ kind: watchKinds[type] ?? p.job?.kind ?? 'unknown', p });
    }
  }
  const region = plan?.rates?.region ?? plan?.region;
  const rates = region ? ratesFor(prices, region) : undefined;
  const m = plan?.job?.machine;
  const machines = m
    ? [{ machineType: m.machineType, replicaCount: m.startingReplicaCount }]
    : plan?.training?.workerPoolSpecs;
  const jobs = ended.map(({ kind, p }) => jobCost({ ...p, kind, name: p.job?.name }, machines, rates));
  if (served) jobs.push(served);
  const table = { perMillionActions: prices.temporal.perMillionActions, asOf: prices.asOf, currency: prices.currency };
  return { workflowId, ...runCostOf(countActions(events), jobs, table) };
}

/** A rollout's result carries the node-hours of what it deployed (workflows/model-rollout.ts). */
function servedCost(result: unknown): JobCost | undefined {
  const r = result as {
    endpoint?: string;
    outcome?: string;
    cost?: { nodeHours?: number; usd?: number | null };
  } | null;
  if (!r?.cost || typeof r.cost.nodeHours !== 'number') return undefined;
  return {
    kind: 'deployedModel',
    job: r.endpoint ?? '?',
    state: r.outcome ?? '?',
    hours: r.cost.nodeHours,
    usd: r.cost.usd ?? null,
    how: r.cost.usd === null ? 'no node-hour price for its machine' : 'node-hours deployed by the rollout',
  };
}

/**
 * The child runs a history started (a prediction run's segments, a fan-out's training runs). Only
 * those whose start succeeded: a fan-out's segment that data-ready had already started is that run's
 * own, not the fan-out's child (its start fails as already started).
 */
const childIds = (events: Event[]): string[] =>
  events.flatMap((e) => e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId ?? []);

/**
 * What a run cost: every generation of it (continue-as-new) and, for a prediction run, every
 * segment it started, each from its own history.
 */
export async function runCost(
  client: Client,
  workflowId: string,
  prices: Prices,
  lastRunId?: string,
): Promise<RunCostReport> {
  let runId = lastRunId;
  const generations: Event[][] = [];
  for (;;) {
    const events = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    generations.unshift(events);
    const previous = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!previous) break;
    runId = previous;
  }
  const all = generations.flat();
  const own = costOfHistory(workflowId, all, prices);
  const kids = [...new Set(childIds(all))];
  if (!kids.length)
    return { ...own, runId: all[0]?.workflowExecutionStartedEventAttributes?.originalExecutionRunId ?? undefined };
  const children = { runs: 0, actions: 0, usd: 0 };
  for (const id of kids) {
    const c = await runCost(client, id, prices);
    children.runs++;
    children.actions += c.actions.total;
    children.usd = roundMicros(children.usd + c.totalUsd);
  }
  const table = { perMillionActions: prices.temporal.perMillionActions, asOf: prices.asOf, currency: prices.currency };
  return {
    workflowId,
    runId: all[0]?.workflowExecutionStartedEventAttributes?.originalExecutionRunId ?? undefined,
    ...runCostOf(own.actions, own.vertex.jobs, table, children),
  };
}

export type RunKind = 'training' | 'prediction';
const workflowTypeOf: Record<RunKind, string> = { training: 'trainingRun', prediction: 'predictionRun' };

export interface CostGroup {
  kind: RunKind;
  pipeline: string;
  environment: string;
  runs: number;
  /** Actions of the runs and of their segments. */
  actions: number;
  temporalUsd: number;
  vertexUsd: number;
  totalUsd: number;
  /** totalUsd / runs. */
  meanUsd: number;
}

export interface CostReport {
  since: string;
  groups: CostGroup[];
  prices: { asOf: string; currency: string };
}

/** Closed training and prediction runs since a time (a prediction run with its segments), summed by kind and pipeline. */
export async function costReport(
  client: Client,
  opts: { since: Date; environment: string; pipeline?: string; limit?: number },
  prices: Prices,
): Promise<CostReport> {
  const query = [
    `WorkflowType IN ("${workflowTypeOf.training}", "${workflowTypeOf.prediction}")`,
    // A generation that continued as new is part of the run that closes after it.
    'ExecutionStatus != "Running"',
    'ExecutionStatus != "ContinuedAsNew"',
    `CloseTime > "${opts.since.toISOString()}"`,
    `${sa.environment.name} = "${opts.environment}"`,
    ...(opts.pipeline ? [`${sa.pipeline.name} = "${opts.pipeline}"`] : []),
  ].join(' AND ');
  const groups = new Map<string, CostGroup>();
  let n = 0;
  for await (const wf of client.workflow.list({ query })) {
    if (++n > (opts.limit ?? 1000)) break;
    const pipeline = String(wf.searchAttributes[sa.pipeline.name]?.[0] ?? '?');
    const kind: RunKind = wf.type === workflowTypeOf.prediction ? 'prediction' : 'training';
    const cost = await runCost(client, wf.workflowId, prices, wf.runId);
    const key = `${kind}/${pipeline}`;
    const g = groups.get(key) ?? {
      kind,
      pipeline,
      environment: opts.environment,
      runs: 0,
      actions: 0,
      temporalUsd: 0,
      vertexUsd: 0,
      totalUsd: 0,
      meanUsd: 0,
    };
    const actions = cost.actions.total + (cost.children?.actions ?? 0);
    const temporalUsd = roundMicros((actions * prices.temporal.perMillionActions) / 1e6);
    g.runs++;
    g.actions += actions;
    g.temporalUsd = roundMicros(g.temporalUsd + temporalUsd);
    g.totalUsd = roundMicros(g.totalUsd + cost.totalUsd);
    g.vertexUsd = roundMicros(g.totalUsd - g.temporalUsd);
    g.meanUsd = roundMicros(g.totalUsd / g.runs);
    groups.set(key, g);
  }
  return {
    since: opts.since.toISOString(),
    groups: [...groups.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.pipeline.localeCompare(b.pipeline)),
    prices: { asOf: prices.asOf, currency: prices.currency },
  };
}
