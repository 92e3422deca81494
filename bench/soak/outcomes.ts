import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { costOfHistory } from '../../client/cost';
import type { PipelineConfig } from '../../config/pipeline-config';
import type { Prices } from '../../config/prices';
import { datasetsOf } from '../../config/runs';
import type { JobView } from '../../emulators/vertex-ai/control-schema';
import type { SoakLedger } from './ledger';

// What happened, read after the season from outside the workers: every execution in visibility
// and its history (outcome, size, actions, when it noticed its job's end), the emulator's jobs, and
// the ledger (when each run's data arrived). From these: runs and jobs by outcome, the two
// latencies, history size per run, and what the season cost per simulated month.

type Event = temporal.api.history.v1.IHistoryEvent;

const ms = (t: Event['eventTime']) => Number(String(t?.seconds ?? 0)) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
const decode = (p: temporal.api.common.v1.IPayloads | null | undefined): unknown =>
  p?.payloads?.[0] ? defaultPayloadConverter.fromPayload(p.payloads[0]) : undefined;

export interface ExecutionRead {
  type: string;
  workflowId: string;
  runId: string;
  status: string;
  startTime: string;
  closeTime?: string;
  events: number;
  bytes: number;
  /** A training run's result status (succeeded, rejected, skipped, delegated), else its close status. */
  outcome: string;
  actions: number;
  actionsByKind: Record<string, number>;
  temporalUsd: number;
  vertexUsd: number;
  /** Jobs whose end the run noticed (the watch returned terminal), and when. */
  noticed: { job: string; at: number }[];
  /** The build ids whose workers completed its workflow tasks (Worker Deployment Versioning), in order. */
  builds: string[];
}

/** The build that completed a workflow task, when its worker was versioned. */
function buildOf(e: Event): string | undefined {
  const t = e.workflowTaskCompletedEventAttributes;
  // The older string form is `deployment:build` (or `.`); a deployment name has neither in it.
  return t?.deploymentVersion?.buildId || t?.workerDeploymentVersion?.replace(/^[^:.]*[:.]/, '') || undefined;
}

/** One execution's history, read and summarised. */
function readHistory(info: WorkflowExecutionInfo, events: Event[], prices: Prices): ExecutionRead {
  const scheduled = new Map<string, string>();
  const noticed: { job: string; at: number }[] = [];
  const builds: string[] = [];
  let outcome: string = info.status.name;
  for (const e of events) {
    const build = buildOf(e);
    if (build && !builds.includes(build)) builds.push(build);
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(e.eventId), s.activityType?.name ?? '');
    const c = e.activityTaskCompletedEventAttributes;
    if (c && /^await(TrainingJob|BatchPrediction)$/.test(scheduled.get(String(c.scheduledEventId)) ?? '')) {
      const p = decode(c.result) as { terminal?: boolean; job?: { name?: string } } | undefined;
      if (p?.terminal && p.job?.name) noticed.push({ job: p.job.name, at: ms(e.eventTime) });
    }
    const done = e.workflowExecutionCompletedEventAttributes;
    if (done && info.type === 'trainingRun') {
      const r = decode(done.result) as { status?: string } | undefined;
      if (r?.status) outcome = r.status;
    }
  }
  const cost = costOfHistory(info.workflowId, events, prices);
  return {
    type: info.type,
    workflowId: info.workflowId,
    runId: info.runId,
    status: info.status.name,
    startTime: info.startTime.toISOString(),
    closeTime: info.closeTime?.toISOString(),
    events: events.length,
    // The visibility store's figure when it has one (the server's own encoding), else the events as JSON.
    bytes: info.historySize ?? events.reduce((n, e) => n + JSON.stringify(e).length, 0),
    outcome,
    actions: cost.actions.total,
    actionsByKind: cost.actions.byKind,
    temporalUsd: cost.temporalUsd,
    vertexUsd: cost.vertex.usd,
    noticed,
    builds,
  };
}

/** Every execution in the namespace (the soak's stack is its own), each history read once, `parallel` at a time. */
export async function readExecutions(client: Client, prices: Prices, parallel = 6): Promise<ExecutionRead[]> {
  const infos: WorkflowExecutionInfo[] = [];
  for await (const wf of client.workflow.list()) infos.push(wf);
  const out: ExecutionRead[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < infos.length) {
        const info = infos[next++]!;
        const history = await client.workflow.getHandle(info.workflowId, info.runId).fetchHistory();
        out.push(readHistory(info, history.events ?? [], prices));
      }
    }),
  );
  return out.sort((a, b) => a.startTime.localeCompare(b.startTime));
}

/** The q-quantile (nearest rank) of the values, rounded to ms; null when there are none. */
export function quantile(values: number[], q: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
}

const runKey = (r: { pipeline: string; environment: string; segment?: string; partition: string }) =>
  `${r.pipeline}|${r.environment}|${r.segment ?? 'all'}|${r.partition.toLowerCase()}`;

/**
 * Data-ready → job created, per training run whose job exists: from the moment its last dataset's
 * data-ready was first sent (the ledger) to its first job's create time (the emulator).
 */
export function dataReadyToCreate(ledger: SoakLedger, jobs: JobView[], config: PipelineConfig): number[] {
  const firstSent = new Map<string, number>();
  for (const d of ledger.dataReady) {
    const k = `${d.environment}|${d.dataset}|${d.partition}`;
    firstSent.set(k, Math.min(firstSent.get(k) ?? Infinity, Date.parse(d.sentAt)));
  }
  const created = new Map<string, { t: number; run: { pipeline: string; environment: string; segment?: string } }>();
  for (const j of jobs) {
    if (j.kind === 'batchPredictionJob') continue;
    const l = j.labels;
    if (!l['ct-pipeline'] || !l['ct-environment'] || !l['ct-partition']) continue;
    const run = { pipeline: l['ct-pipeline'], environment: l['ct-environment'], segment: l['ct-segment'] };
    const k = runKey({ ...run, partition: l['ct-partition'] });
    const t = Date.parse(j.createTime);
    if (!created.has(k) || t < created.get(k)!.t) created.set(k, { t, run });
  }
  const partitions = new Map(ledger.dataReady.map((d) => [d.partition.toLowerCase(), d.partition]));
  const out: number[] = [];
  for (const [k, { t, run }] of created) {
    const partition = partitions.get(k.split('|')[3]!);
    if (!partition) continue; // a partition the ledger never sent data for
    let ready = -Infinity;
    try {
      for (const ds of datasetsOf(config, { ...run, partition }))
        ready = Math.max(ready, firstSent.get(`${run.environment}|${ds}|${partition}`) ?? Infinity);
    } catch {
      continue;
    }
    if (Number.isFinite(ready)) out.push(t - ready);
  }
  return out;
}

/** Job end → the run noticed it (its watch returned the terminal state), per job the emulator ended. */
export function endToNoticed(executions: ExecutionRead[], jobs: JobView[]): number[] {
  const ended = new Map(jobs.filter((j) => j.endTime).map((j) => [j.name, Date.parse(j.endTime!)]));
  return executions.flatMap((e) =>
    e.noticed.flatMap((n) => (ended.has(n.job) ? [Math.max(0, n.at - ended.get(n.job)!)] : [])),
  );
}

export const countBy = <T>(items: T[], key: (t: T) => string): Record<string, number> =>
  items.reduce<Record<string, number>>((acc, i) => ((acc[key(i)] = (acc[key(i)] ?? 0) + 1), acc), {});
