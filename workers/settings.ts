import { loadTemporalEnv, loadWorkerEnv } from '../config/env';
import { configPath, loadConfig } from '../config/load-config';
import { temporalConnectConfig } from '../config/temporal';
import { resolveWorkerTarget } from '../config/worker-target';

/**
 * What a worker process is told, parsed once at start (the worker and its container health check
 * read the same): a bad config or environment stops it with every problem listed, and where it
 * polls is decided before it connects, so a worker that would poll where no client sends never starts.
 */
export function loadWorkerSettings(runtimeEnv: NodeJS.ProcessEnv = process.env) {
  const workerEnv = loadWorkerEnv(runtimeEnv);
  const config = loadConfig(configPath(runtimeEnv));
  const connect = temporalConnectConfig(loadTemporalEnv(runtimeEnv), runtimeEnv);
  const target = resolveWorkerTarget(config, {
    environments: workerEnv.CT_ENVIRONMENTS,
    namespace: connect.explicitNamespace,
    taskQueue: workerEnv.CT_TASK_QUEUE,
    configFile: configPath(runtimeEnv),
  });
  return { workerEnv, config, connect, target };
}
