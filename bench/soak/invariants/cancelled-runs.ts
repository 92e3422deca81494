import { bareState, stillRunning } from '../../../contracts/vertex-job';
import type { OwnedJob } from '../ownership';
import type { Execution, World } from '../world';
import { verdict, type InvariantResult } from './result';

// Every cancelled run's job cancelled: CANCELLED or CANCELLING, never created, or already ended
// before the run did (a cancel while the model step ran). The runs: every run Temporal shows
// Cancelled, every run an operator's cancel (the ledger) reached, and their children (a
// prediction run's segments, a fan-out's training runs).

function cancelTargets(world: World): Execution[] {
  const targets = new Map<string, Execution>();
  for (const x of world.executions) if (x.status === 'CANCELLED') targets.set(x.runId, x);
  for (const c of world.ledger.cancels) {
    const at = Date.parse(c.at);
    for (const x of world.executions) {
      if (x.workflowId !== c.workflowId) continue;
      const reached = c.runId
        ? x.runId === c.runId
        : x.startTime <= at && (x.closeTime === undefined || x.closeTime >= at);
      if (reached) targets.set(x.runId, x);
    }
  }
  // Their children, a level at a time (a fan-out's runs, a prediction run's segments).
  for (let grew = true; grew;) {
    grew = false;
    for (const x of world.executions)
      if (x.parent && targets.has(x.parent.runId) && !targets.has(x.runId)) {
        targets.set(x.runId, x);
        grew = true;
      }
  }
  return [...targets.values()];
}

export function cancelledRunsCancelTheirJobs(world: World, jobs: OwnedJob[]): InvariantResult {
  const targets = cancelTargets(world);
  const byOwner = new Map<string, OwnedJob[]>();
  for (const j of jobs)
    if (j.owner) byOwner.set(j.owner.execution.runId, [...(byOwner.get(j.owner.execution.runId) ?? []), j]);
  const offenders = new Map<string, string>();
  for (const run of targets) {
    for (const { job } of byOwner.get(run.runId) ?? []) {
      const state = bareState(job.state);
      if (state === 'CANCELLED' || state === 'CANCELLING') continue;
      const of = `${run.workflowId} ${run.runId} (${run.status})`;
      if (stillRunning(state)) offenders.set(job.name, `${state}, but its run ${of} was cancelled`);
      else if (run.closeTime !== undefined && job.endTime && Date.parse(job.endTime) > run.closeTime)
        offenders.set(
          job.name,
          `ended ${state} at ${job.endTime}, after its cancelled run ${of} closed: never cancelled`,
        );
    }
  }
  return verdict(
    'cancelled runs cancel their jobs',
    "every cancelled run's job cancelled, never created, or ended before the run",
    targets.length,
    offenders,
  );
}
