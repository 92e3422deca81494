import { defaultPayloadConverter } from '@temporalio/common';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import type { RunCost } from '../../contracts/cost';
import type { RunPlan } from '../../contracts/training-plan';
import type { ModelReady } from '../../contracts/model';

// What the checker keeps of one workflow run's history: the facts the invariants need, small
// enough to hold for thousands of runs (the events themselves are dropped once read).

type Event = temporal.api.history.v1.IHistoryEvent;
type Payloads = temporal.api.common.v1.IPayloads | null | undefined;

const decode = (p: Payloads): unknown =>
  p?.payloads?.[0] ? defaultPayloadConverter.fromPayload(p.payloads[0]) : undefined;

export interface WatchEnd {
  /** The job's resource name as the run's watch saw it. */
  job: string;
  state: string;
  /** When the run learned of the end: the watch activity's completion. */
  seenAt: number;
}

export interface Announcement {
  manifestUri?: string;
  manifest: Pick<ModelReady, 'model' | 'version'>;
  /** When the announce (or legacy write) activity completed; absent when it never did. */
  completedAt?: number;
}

export interface HistoryDigest {
  workflowId: string;
  runId: string;
  type: string;
  /** The first run of its continue-as-new chain (itself when it is the first). */
  firstRunId: string;
  /** A training run's plan (resolveTrainingRun's result). */
  plan?: Pick<RunPlan, 'project' | 'region' | 'pipeline' | 'partition' | 'segment' | 'maxAttempts'> & {
    trainingKind: 'pipelineJob' | 'customJob';
    attemptJobIds?: string[];
  };
  /** Job names the run's submits returned (training attempts, a segment's batch job). */
  submitted: string[];
  watchEnds: WatchEnd[];
  announcements: Announcement[];
  cancelRequestedAt?: number;
  closedAt?: number;
  /** The run's own cost, as its result (or its failure's details) carried it. */
  ownCost?: RunCost;
  /** A completed training run's result status (succeeded, rejected, skipped, delegated). */
  resultStatus?: string;
  /** Activity retries (attempts beyond the first) and those the run was told of (watchAttempts − 1). */
  retries: number;
  reportedRetries: number;
}

const asRecord = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

export function digestHistory(workflowId: string, runId: string, type: string, events: Event[]): HistoryDigest {
  const d: HistoryDigest = {
    workflowId,
    runId,
    type,
    firstRunId: runId,
    submitted: [],
    watchEnds: [],
    announcements: [],
    retries: 0,
    reportedRetries: 0,
  };
  const scheduled = new Map<string, string>();
  const attempts = new Map<string, number>();
  const pendingAnnounce = new Map<string, Announcement>();
  for (const e of events) {
    const at = optionalTsToMs(e.eventTime);
    const started = e.workflowExecutionStartedEventAttributes;
    if (started) d.firstRunId = started.firstExecutionRunId || runId;
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      const name = s.activityType?.name ?? '';
      scheduled.set(String(e.eventId), name);
      attempts.set(String(e.eventId), 1);
      if (name === 'announceModel' || name === 'writeModelReady') {
        const req = asRecord(decode(s.input)) ?? {};
        const manifest = asRecord(req.manifest) as Announcement['manifest'] | undefined;
        if (manifest) {
          const a = { manifestUri: req.manifestUri as string | undefined, manifest };
          pendingAnnounce.set(String(e.eventId), a);
          d.announcements.push(a);
        }
      }
    }
    const st = e.activityTaskStartedEventAttributes;
    if (st) {
      const id = String(st.scheduledEventId);
      attempts.set(id, Math.max(attempts.get(id) ?? 1, st.attempt ?? 1));
    }
    const c = e.activityTaskCompletedEventAttributes;
    // Only the results read below are decoded: most of a history's bytes are payloads.
    const activity = c && scheduled.get(String(c.scheduledEventId));
    if (c && activity && READ.has(activity)) completed(d, activity, decode(c.result), at);
    if (c && pendingAnnounce.has(String(c.scheduledEventId)))
      pendingAnnounce.get(String(c.scheduledEventId))!.completedAt = at;
    if (e.workflowExecutionCancelRequestedEventAttributes) d.cancelRequestedAt ??= at;
    closed(d, e, at);
  }
  for (const n of attempts.values()) d.retries += n - 1;
  return d;
}

/** The activities whose results are read: the plan, the submits, and the watches (which report their hand-overs). */
const READ = new Set([
  'resolveTrainingRun',
  'submitTrainingJob',
  'submitBatchPrediction',
  'awaitTrainingJob',
  'awaitBatchPrediction',
  'awaitScheduledRun',
]);

function completed(d: HistoryDigest, activity: string, result: unknown, at: number | undefined): void {
  const r = asRecord(result);
  if (!r) return;
  if (typeof r.watchAttempts === 'number' && r.watchAttempts > 1) d.reportedRetries += r.watchAttempts - 1;
  switch (activity) {
    case 'resolveTrainingRun': {
      const plan = r as unknown as RunPlan;
      d.plan = {
        project: plan.project,
        region: plan.region,
        pipeline: plan.pipeline,
        partition: plan.partition,
        segment: plan.segment,
        maxAttempts: plan.maxAttempts,
        trainingKind: plan.training.kind,
        attemptJobIds: plan.attempts?.map((a) => a.jobId),
      };
      break;
    }
    case 'submitTrainingJob':
    case 'submitBatchPrediction':
      if (typeof r.name === 'string') d.submitted.push(r.name);
      break;
    case 'awaitTrainingJob':
    case 'awaitBatchPrediction': {
      const job = asRecord(r.job);
      if (r.terminal && typeof job?.name === 'string' && at !== undefined)
        d.watchEnds.push({ job: job.name, state: String(r.state), seenAt: at });
      break;
    }
  }
}

function closed(d: HistoryDigest, e: Event, at: number | undefined): void {
  const done = e.workflowExecutionCompletedEventAttributes;
  const failed = e.workflowExecutionFailedEventAttributes;
  if (
    done ||
    failed ||
    e.workflowExecutionCanceledEventAttributes ||
    e.workflowExecutionTerminatedEventAttributes ||
    e.workflowExecutionTimedOutEventAttributes ||
    e.workflowExecutionContinuedAsNewEventAttributes
  )
    d.closedAt = at;
  if (done) {
    const result = asRecord(decode(done.result));
    d.ownCost = asRecord(result?.cost) as RunCost | undefined;
    if (typeof result?.status === 'string') d.resultStatus = result.status;
  }
  // A failed run carries its cost where its failure holds a result (a failed prediction segment, run).
  const details = failed?.failure?.applicationFailureInfo?.details;
  if (details) d.ownCost = asRecord(asRecord(decode(details))?.cost) as RunCost | undefined;
}
