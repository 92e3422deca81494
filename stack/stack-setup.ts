// What both topologies read before anything starts: the config the worker will load, the
// namespace and task queue it resolves to (so the server makes the namespace clients will use),
// and the data folder with its logs.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadWorkerEnv } from '../config/env';
import { configPath, loadConfig } from '../config/load-config';
import { resolveWorkerTarget } from '../config/worker-target';
import { repoRoot } from './tools';

/** The config and the worker's target (namespace, task queue, environments), as the worker will see them. */
export function workerTarget(namespace: string | undefined) {
  const config = loadConfig();
  const workerEnv = loadWorkerEnv();
  const target = resolveWorkerTarget(config, {
    environments: workerEnv.CT_ENVIRONMENTS,
    namespace,
    taskQueue: workerEnv.CT_TASK_QUEUE,
    configFile: configPath(),
  });
  return { config, workerEnv, target };
}

/** The stack's data folder (`CT_DATA_DIR`, below `sub` if given) and its logs folder, created. */
export function stackFolders(dataDirSetting: string, ...sub: string[]) {
  const dataDir = path.join(path.resolve(repoRoot, dataDirSetting), ...sub);
  const logDir = path.join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  return { dataDir, logDir };
}
