import {
  ContinueAsNew,
  isCancellation,
  log,
  metricMeter,
  workflowInfo,
  type ActivityInput,
  type Next,
  type UpdateInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { metrics as m, runOutcomes } from '../../observability/metrics';
import { isCreateQueue } from '../../config/create-queues';
import { isWatchActivity, submitActivities, watchActivities } from './activity-roles';

// Domain metrics, log context and log lines (run started, Vertex job ended, run ended) of every
// workflow, from the outside of its code: what the run was started with, what its activities
// returned, how it ended. Nothing here issues a command, and the SDK's workflow meter and logger
// emit nothing while replaying, so histories replay unchanged and a run replayed on another worker
// is neither counted nor logged twice.
//
// Labels: pipeline and environment come from the input, but only once the run's first activity has
// succeeded (every workflow's first activity resolves its input against the config, and fails a bad
// one): a run started with a made-up pipeline is labelled `unresolved`, so input cannot grow the label set.

const counter = (d: { name: string; help: string }) => metricMeter.createCounter(d.name, undefined, d.help);
const seconds = (d: { name: string; help: string }) => metricMeter.createHistogram(d.name, 'float', 's', d.help);

const runsStarted = counter(m.runsStarted);
const runsEnded = counter(m.runsEnded);
const runDuration = seconds(m.runDuration);
const dataReadyReceived = counter(m.dataReadyReceived);
const dataReadyToSubmit = seconds(m.dataReadyToSubmit);
const jobsEnded = counter(m.jobsEnded);
const jobDuration = seconds(m.jobDuration);
const watchLag = seconds(m.watchLag);
const gateVerdicts = counter(m.gateVerdicts);
const approvalDecisions = counter(m.approvalDecisions);
const predictionSegments = counter(m.predictionSegments);
const createQueueEntered = counter(m.createQueueEntered);
const createQueueLeft = counter(m.createQueueLeft);

type RunLabels = {
  pipeline: string;
  environment: string;
};

interface RunState {
  raw: RunLabels;
  validated: boolean;
  startCounted: boolean;
  /** Workflow time of the last accepted data-ready, until the submit that follows it. */
  dataReadyAt?: number;
  /** For log lines: the run's identity from its input, and the Vertex job it owns. */
  logContext: Record<string, string>;
}

const field = (input: unknown, key: string): string => {
  const v = input && typeof input === 'object' ? (input as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' && /^[a-z][a-z0-9_-]{0,62}$/.test(v) ? v : 'none';
};

const labelsOf = (s: RunState): RunLabels =>
  s.validated ? s.raw : { pipeline: 'unresolved', environment: 'unresolved' };

const ms = (iso: unknown): number | undefined => (typeof iso === 'string' ? Date.parse(iso) : undefined);

function outcomeOf(result: unknown): string {
  const r = (result ?? {}) as Record<string, unknown>;
  const status = r.status ?? r.verdict ?? r.outcome;
  return typeof status === 'string' && (runOutcomes as readonly string[]).includes(status) ? status : 'completed';
}

function outcomeOfError(err: unknown): string {
  if (err instanceof ContinueAsNew) return 'continued';
  if (isCancellation(err)) return 'cancelled';
  return 'failed';
}

class RunMetricsInbound implements WorkflowInboundCallsInterceptor {
  constructor(private readonly s: RunState) {}

  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const s = this.s;
    s.raw = { pipeline: field(input.args[0], 'pipeline'), environment: field(input.args[0], 'environment') };
    for (const key of ['pipeline', 'environment', 'segment', 'partition']) {
      const v = (input.args[0] as Record<string, unknown> | undefined)?.[key];
      if (typeof v === 'string' && v.length <= 100) s.logContext[key] = v;
    }
    const t0 = Date.now();
    if (!workflowInfo().continuedFromExecutionRunId) log.info('run started');
    const end = (outcome: string) => {
      log.info('run ended', { outcome });
      countStart(s);
      const labels = labelsOf(s);
      runsEnded.add(1, { ...labels, outcome });
      runDuration.record((Date.now() - t0) / 1000, { ...labels, outcome });
      if (workflowInfo().workflowType === 'predictionSegment') predictionSegments.add(1, { ...labels, outcome });
    };
    try {
      const result = await next(input);
      const outcome = outcomeOf(result);
      end(outcome);
      recordResult(s, result);
      return result;
    } catch (err) {
      end(outcomeOfError(err));
      throw err;
    }
  }

  async handleUpdate(
    input: UpdateInput,
    next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>,
  ): Promise<unknown> {
    const result = await next(input);
    if (input.name === 'dataReady' && (result as { accepted?: boolean } | undefined)?.accepted) {
      dataReadyReceived.add(1, labelsOf(this.s));
      this.s.dataReadyAt = Date.now();
    }
    return result;
  }
}

class RunMetricsOutbound implements WorkflowOutboundCallsInterceptor {
  constructor(private readonly s: RunState) {}

  async scheduleActivity(
    input: ActivityInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>,
  ): Promise<unknown> {
    // A create waiting its turn on a create queue is the backlog: counted in and out. The meter is
    // silent while replaying, so a run replayed mid-wait on another worker counts only its leaving
    // there; `entered − left` summed over workers stays right while the first worker's counter lives.
    const queued = isCreateQueue(input.options.taskQueue);
    if (queued) createQueueEntered.add(1, labelsOf(this.s));
    const result = await (queued ? next(input).finally(() => createQueueLeft.add(1, labelsOf(this.s))) : next(input));
    const s = this.s;
    if (!s.validated) {
      s.validated = true;
      countStart(s);
    }
    if (submitActivities.has(input.activityType)) {
      const name = (result as { name?: unknown } | undefined)?.name;
      if (typeof name === 'string') s.logContext.vertexJob = name;
      if (s.dataReadyAt !== undefined) {
        dataReadyToSubmit.record((Date.now() - s.dataReadyAt) / 1000, labelsOf(s));
        s.dataReadyAt = undefined;
      }
    }
    if (isWatchActivity(input.activityType)) recordJobEnd(s, input.activityType, result);
    return result;
  }

  getLogAttributes(
    input: Record<string, unknown>,
    next: Next<WorkflowOutboundCallsInterceptor, 'getLogAttributes'>,
  ): Record<string, unknown> {
    return next({ ...this.s.logContext, ...input });
  }
}

function countStart(s: RunState): void {
  if (s.startCounted) return;
  s.startCounted = true;
  if (!workflowInfo().continuedFromExecutionRunId) runsStarted.add(1, labelsOf(s));
}

function recordJobEnd(s: RunState, activityType: keyof typeof watchActivities, result: unknown): void {
  const p = (result ?? {}) as {
    terminal?: boolean;
    state?: string;
    startTime?: string;
    endTime?: string;
    job?: { kind?: string };
  };
  if (!p.terminal) return;
  const kind = watchActivities[activityType] ?? p.job?.kind ?? 'unknown';
  const state = typeof p.state === 'string' && /^[A-Z_]{1,32}$/.test(p.state) ? p.state : 'UNKNOWN';
  const labels = { ...labelsOf(s), kind };
  log.info('Vertex job ended', { kind, state });
  jobsEnded.add(1, { ...labels, state });
  const [start, end] = [ms(p.startTime), ms(p.endTime)];
  if (start !== undefined && end !== undefined && end >= start)
    jobDuration.record((end - start) / 1000, { ...labels, state });
  if (end !== undefined) watchLag.record(Math.max(0, Date.now() - end) / 1000, labels);
}

function recordResult(s: RunState, result: unknown): void {
  const labels = labelsOf(s);
  const r = (result ?? {}) as { gate?: { passed?: boolean }; approval?: { decision?: string } };
  if (r.gate) gateVerdicts.add(1, { ...labels, verdict: r.gate.passed ? 'passed' : 'failed' });
  const decision = r.approval?.decision;
  if (decision === 'approved' || decision === 'rejected' || decision === 'timed-out')
    approvalDecisions.add(1, { ...labels, decision });
}

export const runObservabilityInterceptors: WorkflowInterceptorsFactory = () => {
  const state: RunState = {
    raw: { pipeline: 'none', environment: 'none' },
    validated: false,
    startCounted: false,
    logContext: {},
  };
  return { inbound: [new RunMetricsInbound(state)], outbound: [new RunMetricsOutbound(state)] };
};
