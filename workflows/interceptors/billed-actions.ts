import type { ConcludeActivationInput } from '@temporalio/workflow';
import type { ActionKind } from '../../contracts/cost';

type Command = ConcludeActivationInput['commands'][number];

/**
 * The billable action a command makes: the same kinds observability/actions.ts counts in history
 * (contracts/cost.ts names them).
 */
export function billedAs(c: Command, all: Command[]): ActionKind | undefined {
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
