import { soakFigures } from './figures';
import { cancelledRunsCancelTheirJobs } from './invariants/cancelled-runs';
import { noDuplicates } from './invariants/duplicates';
import { manifestsNameTheChampion } from './invariants/model-manifests';
import { oneRunPerPartition } from './invariants/one-run-per-partition';
import { noOrphans } from './invariants/orphans';
import { onePredictionVersion } from './invariants/prediction-versions';
import type { InvariantResult } from './invariants/result';
import { ownCostMatchesCtCost } from './invariants/run-cost';
import { scheduleFiringsAccountedFor } from './invariants/schedule-firings';
import type { SoakLedger } from './ledger';
import { ownJobs } from './ownership';
import { readWorld, type CheckOptions, type SoakClients } from './world';

// The soak's checker: it reads what really happened, only from outside the workers (bench/soak/world.ts),
// and states what must be true of it. Each invariant names the ids that break it.

export type { CheckOptions, SoakClients } from './world';
export type { InvariantResult } from './invariants/result';

export interface SoakCheck {
  ok: boolean;
  invariants: InvariantResult[];
  figures: ReturnType<typeof soakFigures>;
}

export async function checkSoak(ledger: SoakLedger, clients: SoakClients, opts: CheckOptions = {}): Promise<SoakCheck> {
  const world = await readWorld(ledger, clients, opts);
  const jobs = ownJobs(world);
  const invariants = [
    oneRunPerPartition(world, opts),
    noOrphans(jobs),
    noDuplicates(world, jobs),
    cancelledRunsCancelTheirJobs(world, jobs),
    scheduleFiringsAccountedFor(world),
    manifestsNameTheChampion(world, opts.manifestSlackMs),
    onePredictionVersion(world, jobs),
    ownCostMatchesCtCost(world),
  ];
  return { ok: invariants.every((i) => i.ok), invariants, figures: soakFigures(world, jobs) };
}
