import type { Client } from '@temporalio/client';
import { flagWatchTargets } from '../config/flags';
import type { PipelineConfig } from '../config/pipeline-config';
import { flagWatchId, flagWatchWorkflowType, type FlagWatchInput } from '../contracts';

// The flag watches a worker needs, started when it starts (workers/main.ts): one per environment
// it serves and bucket the config names a flag in. Idempotent (conflict policy use-existing): every
// worker of a deployment asks, and the running watch stays; a watch ended by hand is started again
// by the next worker start, from scratch (its first listing is history: docs/triggers.md).

export interface EnsuredWatch {
  workflowId: string;
  environment: string;
  bucket: string;
  groups: number;
  sources: number;
}

export async function ensureFlagWatches(
  temporal: Client,
  config: PipelineConfig,
  opts: { environments: readonly string[]; taskQueue: string },
): Promise<EnsuredWatch[]> {
  const ensured: EnsuredWatch[] = [];
  for (const target of flagWatchTargets(config, opts.environments)) {
    const workflowId = flagWatchId(target.environment, target.bucket);
    const input: FlagWatchInput = { environment: target.environment, bucket: target.bucket };
    await temporal.workflow.start(flagWatchWorkflowType, {
      workflowId,
      taskQueue: opts.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `Flag watch · ${target.environment} · gs://${target.bucket}`,
    });
    ensured.push({
      workflowId,
      environment: target.environment,
      bucket: target.bucket,
      groups: target.groups.length,
      sources: target.groups.reduce((n, g) => n + g.sources.length, 0),
    });
  }
  return ensured;
}
