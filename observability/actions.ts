import type { temporal } from '@temporalio/proto';
import { actionCount, addCount, type ActionCount, type ActionKind } from '../contracts/cost';

// Temporal Cloud's billable actions (contracts/cost.ts names their kinds), counted from one run's
// own history by Cloud's published rules (docs.temporal.io/cloud/actions): the start (a child's
// start is billed in the parent's history, as its initiation, and again as the child's own start),
// each activity attempt (retries included: only the last attempt is recorded, and its `attempt`
// says how many there were), each timer, each signal received or sent, each accepted update, each
// search-attribute or memo upsert after the start, each cancel request sent, each local activity (a
// marker), and the other markers (a patch's) once per workflow task that records any, as the server
// counts them (one BatchMarkers action per task). Continue-as-new is billed as the next run's start, which that run's own history counts.
// Not in history, so not counted here: queries, rejected updates, heartbeats that reach the server,
// and a schedule's own actions (3 per firing, billed to the schedule).

type Event = temporal.api.history.v1.IHistoryEvent;

export function countActions(events: Event[]): ActionCount {
  const byKind: Partial<Record<ActionKind, number>> = {};
  const add = (kind: ActionKind, n = 1) => addCount(byKind, kind, n);
  // Attempts per scheduled activity: the highest attempt seen started (the last one is the only one recorded).
  const attempts = new Map<string, number>();
  /**
   * Workflow tasks that recorded a marker other than a local activity's, by run: the events may be
   * several generations' histories one after the other, whose event ids start again at 1.
   */
  const markerTasks = new Set<string>();
  let run = 0;
  for (const e of events) {
    if (e.workflowExecutionStartedEventAttributes) {
      run++;
      add('start');
    } else if (e.activityTaskScheduledEventAttributes) attempts.set(String(e.eventId), 1);
    else if (e.activityTaskStartedEventAttributes) {
      const id = String(e.activityTaskStartedEventAttributes.scheduledEventId);
      attempts.set(id, Math.max(attempts.get(id) ?? 1, e.activityTaskStartedEventAttributes.attempt ?? 1));
    } else if (e.timerStartedEventAttributes) add('timer');
    else if (e.workflowExecutionSignaledEventAttributes) add('signal');
    else if (e.signalExternalWorkflowExecutionInitiatedEventAttributes) add('signal-sent');
    else if (e.workflowExecutionUpdateAcceptedEventAttributes) add('update');
    else if (e.upsertWorkflowSearchAttributesEventAttributes) add('search-attribute-upsert');
    else if (e.workflowPropertiesModifiedEventAttributes) add('memo-upsert');
    else if (e.startChildWorkflowExecutionInitiatedEventAttributes) add('child-start');
    else if (e.requestCancelExternalWorkflowExecutionInitiatedEventAttributes) add('cancel-sent');
    else if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity') add('local-activity');
    else if (e.markerRecordedEventAttributes)
      markerTasks.add(`${run}:${String(e.markerRecordedEventAttributes.workflowTaskCompletedEventId)}`);
  }
  if (markerTasks.size) add('marker', markerTasks.size);
  for (const n of attempts.values()) add('activity-attempt', n);
  return actionCount(byKind);
}
