import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  reserveCreateUpdate,
  type ReserveCreateArgs,
  type VertexCreateAccountState,
} from '../contracts/vertex-create-account';

// The Vertex create quota of one project and region as every worker spends it together
// (docs/vertex-quota.md says why a workflow and not the task queue's rate limit). Each create asks
// it for a moment with an update (infra/temporal/create-account.ts): at once while fewer than the
// quota's creates were reserved in the last 60 s, else when the oldest of them leaves the window.
// The answer is immediate (the caller sleeps, not the handler), so updates never pile up in flight.
// It continues as new every CONTINUE_AFTER creates (a history of ~5 events each), carrying the
// last minute, and ends after IDLE_MS without a create (the next create starts it again).

/** As infra/vertex/budget.ts's SKEW_MS, and more so: a reservation's workflow time is two hops before its call reaches Vertex. */
const SKEW_MS = 1_000;
const WINDOW_MS = 60_000;
const CONTINUE_AFTER = 500;
/** Longer than any wait a create is allowed (CT_VERTEX_BUDGET_MAX_WAIT_MS ≤ 10 min): no reservation outlives the run. */
const IDLE_MS = 11 * 60_000;

export async function vertexCreateAccount(state: VertexCreateAccountState = { times: [] }): Promise<void> {
  const times = [...state.times];
  let reserved = 0;
  let lastReserve = Date.now();
  const reserve = ({ perMinute, maxWaitMs }: ReserveCreateArgs) => {
    const now = Date.now();
    while (times.length && times[0]! <= now - WINDOW_MS - SKEW_MS) times.shift();
    const rate = Math.max(1, Math.floor(perMinute));
    const freed = times.length >= rate ? times[times.length - rate]! + WINDOW_MS + SKEW_MS : now;
    const slot = Math.max(now, times.at(-1) ?? now, freed);
    if (slot - now > maxWaitMs) return {};
    times.push(slot);
    reserved++;
    lastReserve = now;
    return { waitMs: slot - now };
  };
  setHandler(reserveCreateUpdate, reserve, {
    validator: ({ perMinute, maxWaitMs }) => {
      if (!(perMinute >= 1) || !(maxWaitMs >= 0)) throw new Error('reserveCreate: perMinute ≥ 1 and maxWaitMs ≥ 0');
    },
  });
  for (;;) {
    if (await condition(() => reserved >= CONTINUE_AFTER || workflowInfo().continueAsNewSuggested, IDLE_MS)) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof vertexCreateAccount>({ times });
    }
    if (Date.now() - lastReserve >= IDLE_MS) return;
  }
}
