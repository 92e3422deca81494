import { stillRunning } from '../../../contracts/vertex-job';
import type { OwnedJob } from '../ownership';
import { verdict, type InvariantResult } from './result';

// No Vertex job runs that no open run owns (0 orphans): a run that ends, however it ends except
// terminate, leaves no job running (workflows/support/vertex-job-supervisor.ts). Running is any
// state a job may still spend in (PAUSED too: it holds its resources), not CANCELLING.

export function noOrphans(jobs: OwnedJob[]): InvariantResult {
  const offenders = new Map<string, string>();
  for (const { job, owner } of jobs) {
    if (!stillRunning(job.state)) continue;
    if (!owner) offenders.set(job.name, `${job.state}, and no run owns it (labels ${JSON.stringify(job.labels)})`);
    else if (owner.execution.status !== 'RUNNING')
      offenders.set(
        job.name,
        `${job.state}, but its run ${owner.execution.workflowId} ${owner.execution.runId} is ${owner.execution.status}`,
      );
  }
  return verdict('no orphan jobs', 'no Vertex job running that no open run owns', jobs.length, offenders);
}
