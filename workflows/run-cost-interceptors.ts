import { ApplicationFailure, ChildWorkflowFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  getCurrentDetails,
  setCurrentDetails,
  workflowInfo,
  type ActivateInput,
  type ActivityInput,
  type ConcludeActivationInput,
  type Next,
  type QueryInput,
  type StartChildWorkflowExecutionInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowInternalsInterceptor,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import {
  actionCount,
  addCount,
  costLine,
  jobCost,
  runCostOf,
  type JobCost,
  type Machines,
  type Rates,
  type RunCost,
} from '../contracts/cost';

// Every run's own cost, kept by the run itself and shown in its result, its status query and the
// UI's current details, without a line of the workflows' code knowing.
//
// Actions are counted from the commands the run issues (the same kinds observability/actions.ts
// counts in history: activity schedules, timers, upserts, child starts, signals and cancels sent,
// accepted updates) and the signals it receives, as each activation concludes. Commands are
// rebuilt the same way on replay, so the count is too; nothing here issues a command. The result
// and the failure's details are rewritten in the completing command (core compares commands by
// kind, not payload, so committed histories replay), and a continue-as-new carries the count so far
// in a header. What a workflow cannot see: an activity's retries. The Vertex watch reports the
// attempts it took (its hand-overs are most of them); other retries (a 429 on a create, a blip on
// a read) are not counted here. `ct cost` reads history and counts them: it is the exact figure.
//
// The Vertex estimate: the run's plan (recorded in history) carries its region's prices and its
// machines; each job the watch saw end is priced by contracts/cost.ts. A prediction run adds its
// segments' costs, which arrive in their results (or their failures' details).

const CARRIED = 'ct-run-cost';

/**
 * The runs whose cost is shown (their result types declare it: contracts/cost.ts). Routing a
 * data-ready, waiting for a model and the stack check are counted into no one's figure but their own
 * history's (`ct cost --id` reads it).
 */
const costedTypes = new Set(['trainingRun', 'trainingFanout', 'predictionRun', 'predictionSegment', 'scheduledRun']);
const costed = () => costedTypes.has(workflowInfo().workflowType);

/** The activities whose results give a run its machines and prices, and those that see a job end. */
const planActivities = new Set([
  'resolveTrainingRun',
  'resolveSegmentPrediction',
  'planPrediction',
  'startScheduledRun',
]);
const watchKinds: Record<string, string | undefined> = {
  awaitTrainingJob: undefined, // the kind is on the job ref
  awaitBatchPrediction: 'batchPredictionJob',
};

interface PlanLike {
  rates?: Rates;
  training?: { kind?: string; workerPoolSpecs?: Machines[] };
  job?: { machine?: { machineType: string; startingReplicaCount: number } };
}

interface EndLike {
  terminal?: boolean;
  state?: string;
  startTime?: string;
  endTime?: string;
  watchAttempts?: number;
  job?: { kind?: string; name?: string };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

class RunCostMeter {
  private readonly byKind: Record<string, number> = {};
  private readonly jobs = new Map<string, JobCost>();
  private readonly children = { runs: 0, actions: 0, usd: 0 };
  private hasChildren = false;
  private machines?: Machines[];
  private rates?: Rates;
  /** Earlier generations' cost and prices, handed over by continue-as-new. */
  carried?: { cost: RunCost; rates?: Rates };
  private details = { base: '', shown: '' };

  count(kind: string, n = 1): void {
    addCount(this.byKind, kind, n);
  }

  planned(plan: PlanLike): void {
    this.rates = plan.rates ?? this.rates;
    const m = plan.job?.machine;
    // A batch job's replicas: Vertex starts `startingReplicaCount` and may scale up; the estimate is a floor.
    if (m) this.machines = [{ machineType: m.machineType, replicaCount: m.startingReplicaCount }];
    else if (plan.training?.kind === 'customJob') this.machines = plan.training.workerPoolSpecs;
  }

  /** An activity that hands over to its next attempt (a Vertex watch, a firing following its run) reports the attempts it took. */
  handedOver(result: { watchAttempts?: unknown }): void {
    const n = result.watchAttempts;
    if (typeof n === 'number' && n > 1) this.count('activity-attempt', n - 1);
  }

  jobEnded(activityType: string, p: EndLike): void {
    if (!p.terminal) return;
    const kind = watchKinds[activityType] ?? p.job?.kind ?? 'unknown';
    const name = p.job?.name ?? `job-${this.jobs.size + 1}`;
    this.jobs.set(name, jobCost({ ...p, kind, name }, this.machines, this.rates));
  }

  /**
   * Adds a child's cost to the run's and takes it off the child's result: the parent keeps every
   * segment's result (across continue-as-new too), and 1,000 costs would only weigh on its history.
   */
  childEnded(result: unknown): void {
    this.hasChildren = true;
    this.children.runs++;
    if (!isRecord(result) || !isRecord(result.cost)) return;
    const c = result.cost as unknown as RunCost;
    delete result.cost;
    this.children.actions += c.actions.total + (c.children?.actions ?? 0);
    this.children.usd = Math.round((this.children.usd + c.totalUsd) * 1e6) / 1e6;
  }

  carry(): { cost: RunCost; rates?: Rates } {
    return { cost: this.cost(), rates: this.rates ?? this.carried?.rates };
  }

  cost(): RunCost {
    const before = this.carried?.cost;
    const byKind = { ...before?.actions.byKind };
    for (const [k, n] of Object.entries(this.byKind)) addCount(byKind, k, n);
    const children =
      this.hasChildren || before?.children
        ? {
            runs: this.children.runs + (before?.children?.runs ?? 0),
            actions: this.children.actions + (before?.children?.actions ?? 0),
            usd: Math.round((this.children.usd + (before?.children?.usd ?? 0)) * 1e6) / 1e6,
          }
        : undefined;
    return runCostOf(
      actionCount(byKind),
      [...(before?.vertex.jobs ?? []), ...this.jobs.values()],
      this.rates ?? this.carried?.rates,
      children,
    );
  }

  /** The workflow's own current details, with the cost line under them. */
  showInDetails(): void {
    const now = getCurrentDetails();
    if (now !== this.details.shown) this.details.base = now;
    this.details.shown = `${this.details.base}${this.details.base ? '\n\n' : ''}${costLine(this.cost())}`;
    setCurrentDetails(this.details.shown);
  }
}

/** Adds the cost to a JSON payload holding an object; any other payload is left as it is. */
function withCost(payload: Payload | null | undefined, cost: RunCost): Payload | null | undefined {
  if (!payload) return payload;
  const value: unknown = defaultPayloadConverter.fromPayload(payload);
  return isRecord(value) ? defaultPayloadConverter.toPayload({ ...value, cost }) : payload;
}

type Command = ConcludeActivationInput['commands'][number];

/** The billable action a command makes, by the kinds observability/actions.ts counts in history. */
function billedAs(c: Command, all: Command[]): string | undefined {
  // A timer or activity started and cancelled in one activation never reaches the server (core
  // drops the pair): a condition with a timeout that holds at once costs nothing.
  if (c.startTimer) return all.some((o) => o.cancelTimer?.seq === c.startTimer!.seq) ? undefined : 'timer';
  if (c.scheduleActivity)
    return all.some((o) => o.requestCancelActivity?.seq === c.scheduleActivity!.seq) ? undefined : 'activity-attempt';
  if (c.scheduleLocalActivity) return 'local-activity';
  // A patch marker comes with core's own upsert of TemporalChangeVersion, billed like ours.
  if (c.upsertWorkflowSearchAttributes || c.setPatchMarker) return 'search-attribute-upsert';
  if (c.modifyWorkflowProperties) return 'memo-upsert';
  if (c.startChildWorkflowExecution) return 'child-start';
  if (c.signalExternalWorkflowExecution) return 'signal-sent';
  if (c.requestCancelExternalWorkflowExecution || c.cancelChildWorkflowExecution) return 'cancel-sent';
  if (c.updateResponse?.accepted) return 'update';
  return undefined;
}

class CostInternals implements WorkflowInternalsInterceptor {
  constructor(private readonly m: RunCostMeter) {}

  activate(input: ActivateInput, next: Next<WorkflowInternalsInterceptor, 'activate'>): void {
    for (const job of input.activation.jobs ?? []) {
      if (job.initializeWorkflow) this.m.count('start');
      else if (job.signalWorkflow) this.m.count('signal');
    }
    next(input);
  }

  concludeActivation(
    input: ConcludeActivationInput,
    next: Next<WorkflowInternalsInterceptor, 'concludeActivation'>,
  ): ConcludeActivationInput {
    const m = this.m;
    for (const c of input.commands) {
      const kind = billedAs(c, input.commands);
      if (kind) m.count(kind);
    }
    if (!costed()) return next(input);
    const cost = m.cost();
    for (const c of input.commands) {
      if (c.completeWorkflowExecution)
        c.completeWorkflowExecution.result = withCost(c.completeWorkflowExecution.result, cost);
      const details = c.failWorkflowExecution?.failure?.applicationFailureInfo?.details?.payloads;
      if (details?.length) details[0] = withCost(details[0], cost)!;
      const can = c.continueAsNewWorkflowExecution;
      if (can) can.headers = { ...can.headers, [CARRIED]: defaultPayloadConverter.toPayload(m.carry()) };
    }
    m.showInDetails();
    return next(input);
  }
}

class CostInbound implements WorkflowInboundCallsInterceptor {
  constructor(private readonly m: RunCostMeter) {}

  execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const carried = input.headers[CARRIED];
    if (carried) this.m.carried = defaultPayloadConverter.fromPayload<{ cost: RunCost; rates?: Rates }>(carried);
    return next(input);
  }

  async handleQuery(input: QueryInput, next: Next<WorkflowInboundCallsInterceptor, 'handleQuery'>): Promise<unknown> {
    const result = await next(input);
    return isRecord(result) && costed() ? { ...result, cost: this.m.cost() } : result;
  }
}

class CostOutbound implements WorkflowOutboundCallsInterceptor {
  constructor(private readonly m: RunCostMeter) {}

  async scheduleActivity(
    input: ActivityInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>,
  ): Promise<unknown> {
    const result = await next(input);
    if (!isRecord(result)) return result;
    this.m.handedOver(result);
    if (planActivities.has(input.activityType)) this.m.planned(result);
    if (input.activityType in watchKinds) this.m.jobEnded(input.activityType, result);
    return result;
  }

  async startChildWorkflowExecution(
    input: StartChildWorkflowExecutionInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'startChildWorkflowExecution'>,
  ): Promise<[Promise<string>, Promise<unknown>]> {
    const [started, completed] = await next(input);
    const counted = completed.then(
      (result) => {
        this.m.childEnded(result);
        return result;
      },
      (err: unknown) => {
        const cause = err instanceof ChildWorkflowFailure ? err.cause : undefined;
        this.m.childEnded(cause instanceof ApplicationFailure ? cause.details?.[0] : undefined);
        throw err;
      },
    );
    return [started, counted];
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => {
  const meter = new RunCostMeter();
  return {
    inbound: [new CostInbound(meter)],
    outbound: [new CostOutbound(meter)],
    internals: [new CostInternals(meter)],
  };
};
