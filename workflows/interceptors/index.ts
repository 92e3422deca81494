import type { WorkflowInterceptors, WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { runCostInterceptors } from './run-cost';
import { runObservabilityInterceptors } from './run-observability';

// Every workflow's interceptors, bundled in by path (workers/bundle.ts): each run's metrics and log
// context, then its cost, in the order the SDK calls them.
export const interceptors: WorkflowInterceptorsFactory = (): WorkflowInterceptors => {
  const parts = [runObservabilityInterceptors(), runCostInterceptors()];
  return {
    inbound: parts.flatMap((p) => p.inbound ?? []),
    outbound: parts.flatMap((p) => p.outbound ?? []),
    internals: parts.flatMap((p) => p.internals ?? []),
  };
};
