import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { runCost, type RunCostReport } from '../../client/cost';
import type { Prices } from '../../config/prices';
import { mapBounded } from './bounded';
import { digestHistory } from './history-digest';

// The cost `ct cost` reads for one run (client/cost.ts runCost itself: every generation, every
// child), fed from histories read beforehand: the run's own as the checker already holds it, its
// earlier generations, and its children fetched a few at a time (runCost reads them one by one,
// which for a run of thousands of segments would take most of the check). Also the activity
// retries the run could not see: the documented gap between its own count and this one.

type Event = temporal.api.history.v1.IHistoryEvent;

export interface CtCost {
  cost: RunCostReport;
  /** Retries in the run's own generations that no watch reported to it (each one action `ct cost` counts and the run does not). */
  unreported: number;
  /** The same in its children's histories. */
  childrenUnreported: number;
}

const key = (workflowId: string, runId?: string) => `${workflowId}\n${runId ?? ''}`;

/** Each history read for a run's cost besides its own (earlier generations, children): the checker digests it too. */
export type OnHistory = (workflowId: string, runId: string | undefined, events: Event[]) => Promise<void>;

export async function ctCostOf(
  temporalClient: Client,
  run: { workflowId: string; runId: string; events: Event[] },
  prices: Prices,
  opts: { concurrency?: number; onHistory?: OnHistory } = {},
): Promise<CtCost> {
  const fetch = async (workflowId: string, runId?: string) =>
    (await temporalClient.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
  const held = new Map<string, Event[]>([[key(run.workflowId, run.runId), run.events]]);
  const generations = [run.events];
  for (
    let previous = run.events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    previous;
    previous = generations.at(-1)![0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId
  ) {
    const events = await fetch(run.workflowId, previous);
    held.set(key(run.workflowId, previous), events);
    generations.push(events);
    await opts.onHistory?.(run.workflowId, previous, events);
  }
  const children = [
    ...new Set(
      generations.flat().flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? []),
    ),
  ];
  // runCost reads a child by its id alone: its latest run.
  await mapBounded(children, opts.concurrency ?? 16, async (id) => {
    const events = await fetch(id);
    held.set(key(id), events);
    await opts.onHistory?.(id, undefined, events);
  });

  const read: { workflowId: string; events: Event[] }[] = [];
  const client = {
    workflow: {
      getHandle: (workflowId: string, runId?: string) => ({
        fetchHistory: async () => {
          const events = held.get(key(workflowId, runId)) ?? (await fetch(workflowId, runId));
          read.push({ workflowId, events });
          return { events };
        },
      }),
    },
  } as unknown as Client;
  const cost = await runCost(client, run.workflowId, prices, run.runId);
  let unreported = 0;
  let childrenUnreported = 0;
  for (const h of read) {
    const d = digestHistory(h.workflowId, '', '', h.events);
    const gap = Math.max(0, d.retries - d.reportedRetries);
    if (h.workflowId === run.workflowId) unreported += gap;
    else childrenUnreported += gap;
  }
  return { cost, unreported, childrenUnreported };
}
