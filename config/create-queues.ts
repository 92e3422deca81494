import type { PipelineConfig } from './pipeline-config';

/** The create queue of a project and region: its rate limit is Vertex's creation quota, shared by every worker. */
export const createQueueFor = (taskQueue: string, project: string, region: string) =>
  `${taskQueue}/vertex-creates/${project}/${region}`;

/** Whether an activity goes through a create queue (its backlog is a metric: workflows/interceptors/run-observability.ts). */
export const isCreateQueue = (taskQueue: string | undefined): boolean => /\/vertex-creates\//.test(taskQueue ?? '');

/**
 * The create queues a worker of this config polls, one per project and region of its environments,
 * each with its rate: the whole create budget, which a prediction pipeline's `createsPerMinute` there
 * can only lower. The stack gives each of them one partition on the server (stack/dynamic-config.ts).
 */
export function createQueuesOf(
  config: PipelineConfig,
  taskQueue: string,
  createsPerMinute: number,
): { queue: string; perMinute: number }[] {
  const rates = new Map<string, number>();
  for (const pipeline of Object.values(config.pipelines)) {
    for (const env of Object.values(pipeline.environments)) {
      const queue = createQueueFor(taskQueue, env.project, env.region);
      const cap = pipeline.prediction?.createsPerMinute ?? createsPerMinute;
      rates.set(queue, Math.min(rates.get(queue) ?? createsPerMinute, cap));
    }
  }
  return [...rates].map(([queue, perMinute]) => ({ queue, perMinute }));
}

/** The create queues' names alone (the server's partitions: stack/dynamic-config.ts). */
export const createQueueNamesOf = (config: PipelineConfig, taskQueue: string): string[] =>
  createQueuesOf(config, taskQueue, Infinity).map((q) => q.queue);
