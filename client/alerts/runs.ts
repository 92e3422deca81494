import type { Client } from '@temporalio/client';
import { searchAttributes as sa } from '../../contracts';
import { TrainingRequestError } from '../request';
import { IncidentId } from './incident';
import { ALERT_MEMO, type AlertMemo } from './retrain';

// `ct alerts runs --incident ID`: the runs an incident started, found by the search attribute the
// start set (client/alerts/retrain.ts), with the memo that says which policy asked.

export interface IncidentRun {
  workflowId: string;
  status: string;
  startTime: string;
  phase?: string;
  alert?: AlertMemo;
}

export async function incidentRuns(client: Client, incidentId: string, limit = 100): Promise<IncidentRun[]> {
  if (!IncidentId.safeParse(incidentId).success)
    throw new TrainingRequestError('--incident takes an incident id like 0.opqiw61fsv7p (no spaces or quotes)');
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= 10_000))
    throw new TrainingRequestError('--limit takes a whole number from 1 to 10000');
  const out: IncidentRun[] = [];
  for await (const w of client.workflow.list({ query: `${sa.alertIncidents.name} = "${incidentId}"` })) {
    out.push({
      workflowId: w.workflowId,
      status: w.status.name,
      startTime: w.startTime.toISOString(),
      phase: w.typedSearchAttributes.get(sa.runPhase),
      alert: w.memo?.[ALERT_MEMO] as AlertMemo | undefined,
    });
    if (out.length >= limit) break;
  }
  return out;
}
