import {
  ApplicationFailure,
  ChildWorkflowFailure,
  defaultPayloadConverter,
  WorkflowExecutionAlreadyStartedError,
  type Payload,
} from '@temporalio/common';
import {
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
import type { RunCost, Rates } from '../../contracts/cost';
import type * as workflows from '../index';
import { isWatchActivity, planActivities } from './activity-roles';
import { billedAs } from './billed-actions';
import { isRecord, RunCostMeter } from './run-cost-meter';

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
const costedTypes: ReadonlySet<string> = new Set<keyof typeof workflows>([
  'trainingRun',
  'trainingFanout',
  'predictionRun',
  'predictionSegment',
  'scheduledRun',
]);
const costed = () => costedTypes.has(workflowInfo().workflowType);

/** Adds the cost to a JSON payload holding an object; any other payload is left as it is. */
function withCost(payload: Payload | null | undefined, cost: RunCost): Payload | null | undefined {
  if (!payload) return payload;
  const value: unknown = defaultPayloadConverter.fromPayload(payload);
  return isRecord(value) ? defaultPayloadConverter.toPayload({ ...value, cost }) : payload;
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
    // The server counts an activation's markers (a patch's) as one action (BatchMarkers).
    if (input.commands.some((c) => c.setPatchMarker)) m.count('marker');
    if (!costed()) return next(input);
    const cost = m.cost();
    for (const c of input.commands) {
      if (c.completeWorkflowExecution)
        c.completeWorkflowExecution.result = withCost(c.completeWorkflowExecution.result, cost);
      const failure = c.failWorkflowExecution?.failure?.applicationFailureInfo;
      const details = failure?.details?.payloads;
      if (details?.length) details[0] = withCost(details[0], cost)!;
      // A failure thrown without details (no model to predict with, bad input) still carries the
      // cost, or its parent would count the child's run without its actions.
      else if (failure) failure.details = { payloads: [defaultPayloadConverter.toPayload({ cost })] };
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
    if (isWatchActivity(input.activityType)) this.m.jobEnded(input.activityType, result);
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
        // Never started (a fan-out's segment that data-ready had started first): that run's own, not a child's.
        if (err instanceof WorkflowExecutionAlreadyStartedError) throw err;
        const cause = err instanceof ChildWorkflowFailure ? err.cause : undefined;
        this.m.childEnded(cause instanceof ApplicationFailure ? cause.details?.[0] : undefined);
        throw err;
      },
    );
    // startChild never asks for the result of a child that did not start (it throws the start's
    // error): left unhandled, `counted`'s rejection would fail the workflow task.
    counted.catch(() => undefined);
    return [started, counted];
  }
}

export const runCostInterceptors: WorkflowInterceptorsFactory = () => {
  const meter = new RunCostMeter();
  return {
    inbound: [new CostInbound(meter)],
    outbound: [new CostOutbound(meter)],
    internals: [new CostInternals(meter)],
  };
};
