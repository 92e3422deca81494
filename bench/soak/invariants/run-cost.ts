import type { ActionKind, RunCost } from '../../../contracts/cost';
import type { World } from '../world';
import { verdict, type InvariantResult } from './result';

// Every run's own cost (its result's `cost`, kept by workflows/interceptors/run-cost.ts) equals the
// cost `ct cost` reads from its history (client/cost.ts) within the documented gap
// (docs/observability.md, "What a run cost"): activity retries no watch reported to the run are in
// history and not in the run's count. So every action kind agrees exactly but activity attempts,
// where `ct cost` may count up to that many more; its children's actions the same with theirs; the
// Vertex estimate (the same code on the same watch results) agrees to rounding; and the dollars
// differ by at most those actions at the table's price.

const ROUNDING = 1e-5;

function actionGap(own: RunCost, ct: RunCost): { kind?: string; gap: number } {
  const kinds = new Set([...Object.keys(own.actions.byKind), ...Object.keys(ct.actions.byKind)]) as Set<ActionKind>;
  for (const k of kinds)
    if (k !== 'activity-attempt' && (own.actions.byKind[k] ?? 0) !== (ct.actions.byKind[k] ?? 0))
      return { kind: `${k}: own ${own.actions.byKind[k] ?? 0}, ct cost ${ct.actions.byKind[k] ?? 0}`, gap: NaN };
  return { gap: (ct.actions.byKind['activity-attempt'] ?? 0) - (own.actions.byKind['activity-attempt'] ?? 0) };
}

export function ownCostMatchesCtCost(world: World): InvariantResult {
  const offenders = new Map<string, string>();
  const byRun = new Map(world.executions.map((x) => [x.runId, x]));
  for (const [runId, { cost: ct, unreported, childrenUnreported }] of world.costs) {
    const own = world.digests.get(runId)?.ownCost;
    const x = byRun.get(runId);
    if (!own || !x) continue;
    const id = `${x.workflowId}/${runId}`;
    const { kind, gap } = actionGap(own, ct);
    const problems: string[] = [];
    if (kind) problems.push(`actions differ beyond activity retries (${kind})`);
    else if (gap < 0 || gap > unreported)
      problems.push(
        `activity attempts: own ${own.actions.byKind['activity-attempt'] ?? 0}, ct cost ${ct.actions.byKind['activity-attempt'] ?? 0}, unreported retries ${unreported}`,
      );
    if (Math.abs(own.vertex.usd - ct.vertex.usd) > ROUNDING * (1 + ct.vertex.jobs.length))
      problems.push(`Vertex estimate: own ${own.vertex.usd}, ct cost ${ct.vertex.usd}`);
    const kids = { own: own.children, ct: ct.children };
    if (kids.own || kids.ct) {
      const runs = [kids.own?.runs ?? 0, kids.ct?.runs ?? 0];
      const childGap = (kids.ct?.actions ?? 0) - (kids.own?.actions ?? 0);
      if (runs[0] !== runs[1]) problems.push(`children: own ${runs[0]} runs, ct cost ${runs[1]}`);
      else if (childGap < 0 || childGap > childrenUnreported)
        problems.push(
          `children's actions: own ${kids.own?.actions ?? 0}, ct cost ${kids.ct?.actions ?? 0}, unreported retries ${childrenUnreported}`,
        );
    }
    const perAction = ct.actions.total ? ct.temporalUsd / ct.actions.total : 0;
    const usdGap = ct.totalUsd - own.totalUsd;
    if (usdGap < -ROUNDING * 10 || usdGap > (unreported + childrenUnreported) * perAction + ROUNDING * 10)
      problems.push(`total: own ${own.totalUsd}, ct cost ${ct.totalUsd}`);
    if (problems.length) offenders.set(id, problems.join('; '));
  }
  return verdict(
    'own cost matches ct cost',
    "every run's own cost equals the cost ct cost reads from its history, within the unreported activity retries",
    world.costs.size,
    offenders,
  );
}
