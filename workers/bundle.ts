import type { BundleOptions } from '@temporalio/worker';

/** The workflows' entry point; every bundle (worker, tests, benches, build) starts here. */
export const workflowsPath = require.resolve('../workflows');

/**
 * How every workflow bundle is built. zod is loaded once per V8 context instead of once per cached
 * workflow (see workflows/support/preload.ts): the worker's memory then grows with its running workflows by
 * their state only.
 */
export const bundleOptions: Pick<BundleOptions, 'workflowsPath' | 'preloadModules' | 'workflowInterceptorModules'> = {
  workflowsPath,
  preloadModules: [require.resolve('../workflows/support/preload')],
  // Domain metrics and log context of every workflow (observability/metrics.ts names them), and its cost.
  workflowInterceptorModules: [require.resolve('../workflows/interceptors')],
};
