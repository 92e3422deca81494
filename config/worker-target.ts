import type { PipelineConfig } from './pipeline-config';

// Where a worker polls is decided by the pipeline config alone: clients send each environment's
// runs to its `temporal.namespace` / `taskQueue`, so a worker that took them from anywhere else
// could poll a queue nobody sends to. The variables a deployment sets (TEMPORAL_NAMESPACE,
// CT_TASK_QUEUE) may restate the config, never contradict it.

export class WorkerTargetError extends Error {
  override name = 'WorkerTargetError';
}

export interface WorkerTarget {
  /** The config's environments whose runs this worker serves. */
  environments: string[];
  namespace: string;
  taskQueue: string;
}

export interface WorkerTargetRequest {
  /** CT_ENVIRONMENTS; every environment of the config when undefined. */
  environments?: string[];
  /** TEMPORAL_NAMESPACE (or an envconfig profile's namespace), only when set explicitly. */
  namespace?: string;
  /** CT_TASK_QUEUE, only when set explicitly. */
  taskQueue?: string;
  /** Named in messages: the config file. */
  configFile: string;
}

/** Parses CT_ENVIRONMENTS ("staging,production"); empty means unset. */
export function parseEnvironmentList(value: string | undefined): string[] | undefined {
  const names = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return names.length ? [...new Set(names)] : undefined;
}

/** The one namespace and task queue the named environments route to, or why there is none. */
export function resolveWorkerTarget(config: PipelineConfig, req: WorkerTargetRequest): WorkerTarget {
  // environment → "namespace/taskQueue" → pipelines that say so
  const routes = new Map<string, Map<string, string[]>>();
  for (const [pipeline, p] of Object.entries(config.pipelines)) {
    for (const [envName, env] of Object.entries(p.environments)) {
      const key = `${env.temporal.namespace}\0${env.temporal.taskQueue}`;
      const byTarget = routes.get(envName) ?? new Map<string, string[]>();
      byTarget.set(key, [...(byTarget.get(key) ?? []), pipeline]);
      routes.set(envName, byTarget);
    }
  }
  const known = [...routes.keys()].sort();
  const environments = req.environments ?? known;
  const unknown = environments.filter((e) => !routes.has(e));
  if (unknown.length) {
    throw new WorkerTargetError(
      `CT_ENVIRONMENTS names ${unknown.map((e) => `'${e}'`).join(', ')}, which ${req.configFile} does not have; ` +
        `its environments: ${known.join(', ') || '(none)'}`,
    );
  }
  if (!environments.length) throw new WorkerTargetError(`${req.configFile} has no environments to serve`);

  const targets = new Map<string, string[]>();
  for (const e of environments) {
    for (const [key, pipelines] of routes.get(e)!) {
      targets.set(key, [...(targets.get(key) ?? []), `${e} (${pipelines.join(', ')})`]);
    }
  }
  const show = (key: string) => key.replace('\0', ' / task queue ');
  if (targets.size > 1) {
    const lines = [...targets].map(([key, where]) => `  namespace ${show(key)}: ${where.join('; ')}`);
    throw new WorkerTargetError(
      `the environments this worker would serve (${environments.join(', ')}) route runs to ${targets.size} ` +
        `different places in ${req.configFile}, and a worker polls one:\n${lines.join('\n')}\n` +
        'Set CT_ENVIRONMENTS to environments that share one namespace and task queue, and run a worker per group.',
    );
  }
  const [namespace, taskQueue] = [...targets.keys()][0]!.split('\0') as [string, string];
  const contradictions = [
    req.namespace !== undefined && req.namespace !== namespace
      ? `TEMPORAL_NAMESPACE (or the envconfig profile) says '${req.namespace}', the config says '${namespace}'`
      : undefined,
    req.taskQueue !== undefined && req.taskQueue !== taskQueue
      ? `CT_TASK_QUEUE says '${req.taskQueue}', the config says '${taskQueue}'`
      : undefined,
  ].filter(Boolean);
  if (contradictions.length) {
    throw new WorkerTargetError(
      `the worker's environment contradicts ${req.configFile} for ${environments.join(', ')}: ${contradictions.join('; ')}. ` +
        'Clients send these runs where the config says: unset the variable, or change the config.',
    );
  }
  return { environments, namespace, taskQueue };
}
