/** The create queue of a project and region: its rate limit is Vertex's creation quota, shared by every worker. */
export const createQueueFor = (taskQueue: string, project: string, region: string) =>
  `${taskQueue}/vertex-creates/${project}/${region}`;

/** Whether an activity goes through a create queue (its backlog is a metric: workflows/interceptors/run-observability.ts). */
export const isCreateQueue = (taskQueue: string | undefined): boolean => /\/vertex-creates\//.test(taskQueue ?? '');
