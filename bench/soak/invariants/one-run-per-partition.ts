import { trainingRunId } from '../../../contracts/training-run';
import type { Execution, World } from '../world';
import { verdict, type InvariantResult } from './result';

// Every (pipeline, environment, segment, partition) whose data arrived has exactly one run and one
// terminal outcome: duplicate and late data-ready, schedule firings and hand-overs attach to the one
// run under the partition's id (starts/data-ready.ts, starts/start-or-find.ts) and never start a
// second. A run is a trainingRun chain (continue-as-new generations are one run) under the canonical
// id, or under any id that tagged itself with the partition's search attributes (only a canonical
// run does: one started under another id hands over and ends `delegated`, untagged).

const CANONICAL = /^training:([^:]+):([^:]+):([^:]+):(.+)$/;

/** The partition's run id an execution is a run of, if it is one. */
export function partitionOf(x: Execution): string | undefined {
  if (CANONICAL.test(x.workflowId)) return x.workflowId;
  const sa = x.searchAttributes;
  if (!sa.pipeline || !sa.environment || !sa.partition) return undefined;
  return trainingRunId({
    pipeline: sa.pipeline,
    environment: sa.environment,
    partition: sa.partition,
    segment: sa.segment,
  });
}

const segmentOf = (s: string) => (s === '' || s === 'all' ? undefined : s);

export function oneRunPerPartition(world: World, opts: { allowOpen?: boolean } = {}): InvariantResult {
  const arrived = new Set(
    world.ledger.dataReady.map((d) =>
      trainingRunId({
        pipeline: d.pipeline,
        environment: d.environment,
        partition: d.partition,
        segment: segmentOf(d.segment),
      }),
    ),
  );
  const chains = new Map<string, Map<string, Execution[]>>();
  for (const x of world.executions) {
    if (x.type !== 'trainingRun') continue;
    const key = partitionOf(x);
    if (!key) continue;
    const chain = world.digests.get(x.runId)?.firstRunId ?? x.runId;
    const byChain = chains.get(key) ?? new Map<string, Execution[]>();
    byChain.set(chain, [...(byChain.get(chain) ?? []), x]);
    chains.set(key, byChain);
  }
  const reruns = new Map<string, number>();
  for (const r of world.ledger.reruns ?? []) reruns.set(r.workflowId, (reruns.get(r.workflowId) ?? 0) + 1);

  const offenders = new Map<string, string>();
  const keys = new Set([...arrived, ...chains.keys()]);
  for (const key of keys) {
    const runs = [...(chains.get(key)?.values() ?? [])].map(
      (gens) => gens.find((g) => g.status !== 'CONTINUED_AS_NEW') ?? gens.at(-1)!,
    );
    const allowed = 1 + (reruns.get(key) ?? 0);
    if (!runs.length) {
      if (arrived.has(key)) offenders.set(key, 'its data arrived, but no run exists');
    } else if (runs.length > allowed) {
      offenders.set(
        key,
        `${runs.length} runs: ${runs.map((r) => `${r.workflowId} ${r.runId} (${r.status})`).join(', ')}`,
      );
    } else if (!opts.allowOpen && runs.some((r) => r.status === 'RUNNING')) {
      offenders.set(key, `no terminal outcome: ${runs.find((r) => r.status === 'RUNNING')!.runId} is still running`);
    }
  }
  return verdict(
    'one run per partition',
    'every partition whose data arrived has exactly one run and one terminal outcome',
    keys.size,
    offenders,
  );
}
