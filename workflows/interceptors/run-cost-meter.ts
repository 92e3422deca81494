import { getCurrentDetails, setCurrentDetails } from '@temporalio/workflow';
import {
  roundMicros,
  actionCount,
  addCount,
  costLine,
  jobCost,
  runCostOf,
  type ActionKind,
  type JobCost,
  type Machines,
  type Rates,
  type RunCost,
} from '../../contracts/cost';
import { watchActivities } from './activity-roles';

// One run's cost as it goes: its actions by kind, the Vertex jobs it saw end (priced by
// contracts/cost.ts with its plan's machines and region prices), its children's costs, and what
// earlier generations carried over a continue-as-new. Fed by the interceptors in run-cost.ts.

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

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export class RunCostMeter {
  private readonly byKind: Partial<Record<ActionKind, number>> = {};
  private readonly jobs = new Map<string, JobCost>();
  private readonly children = { runs: 0, actions: 0, usd: 0 };
  private hasChildren = false;
  private machines?: Machines[];
  private rates?: Rates;
  /** Earlier generations' cost and prices, handed over by continue-as-new. */
  carried?: { cost: RunCost; rates?: Rates };
  private details = { base: '', shown: '' };

  count(kind: ActionKind, n = 1): void {
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

  jobEnded(activityType: keyof typeof watchActivities, p: EndLike): void {
    if (!p.terminal) return;
    const kind = watchActivities[activityType] ?? p.job?.kind ?? 'unknown';
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
    this.children.usd = roundMicros(this.children.usd + c.totalUsd);
  }

  carry(): { cost: RunCost; rates?: Rates } {
    return { cost: this.cost(), rates: this.rates ?? this.carried?.rates };
  }

  cost(): RunCost {
    const before = this.carried?.cost;
    const byKind = { ...before?.actions.byKind };
    for (const [k, n] of Object.entries(this.byKind)) addCount(byKind, k as ActionKind, n);
    const children =
      this.hasChildren || before?.children
        ? {
            runs: this.children.runs + (before?.children?.runs ?? 0),
            actions: this.children.actions + (before?.children?.actions ?? 0),
            usd: roundMicros(this.children.usd + (before?.children?.usd ?? 0)),
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
