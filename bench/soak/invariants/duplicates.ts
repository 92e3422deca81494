import { bareState } from '../../../contracts/vertex-job';
import { jobId, type OwnedJob } from '../ownership';
import type { World } from '../world';
import { verdict, type InvariantResult } from './result';

// At most one job per attempt (0 duplicates). A create that committed after its caller gave up can
// make a twin no retry could prevent; the watch cancels it (activities/vertex/duplicates.ts), so a
// twin that was cancelled is accounted for. Any other second job of an attempt ran on its own.

export function noDuplicates(world: World, jobs: OwnedJob[]): InvariantResult {
  const byAttempt = new Map<string, OwnedJob[]>();
  for (const j of jobs) byAttempt.set(j.attemptKey, [...(byAttempt.get(j.attemptKey) ?? []), j]);
  const offenders = new Map<string, string>();
  for (const group of byAttempt.values()) {
    if (group.length < 2) continue;
    const owner = group[0]!.owner;
    // The run's own job is the one its submit returned; otherwise the first created.
    const recorded = new Set(owner ? (world.digests.get(owner.execution.runId)?.submitted ?? []).map(jobId) : []);
    const sorted = [...group].sort((a, b) => Date.parse(a.job.createTime) - Date.parse(b.job.createTime));
    const kept = sorted.find((j) => recorded.has(jobId(j.job.name))) ?? sorted[0]!;
    for (const { job } of sorted) {
      if (job === kept.job) continue;
      const state = bareState(job.state);
      if (state === 'CANCELLED' || state === 'CANCELLING') continue;
      offenders.set(
        job.name,
        `a second job of ${owner ? `${owner.execution.workflowId} ${owner.execution.runId}${owner.attempt ? ` attempt ${owner.attempt}` : ''}` : group[0]!.attemptKey} beside ${kept.job.name}, ${state}`,
      );
    }
  }
  return verdict(
    'one job per attempt',
    'at most one job per attempt (a late twin cancelled)',
    byAttempt.size,
    offenders,
  );
}
