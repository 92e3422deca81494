import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TemporalConnectionOptions } from '../config/temporal';

/** The frontend's address, or how to reach it (with TLS). */
type Target = string | TemporalConnectionOptions;

/**
 * Whether a worker polls the task queue now. The server remembers pollers for a few minutes, so a
 * killed worker still shows: only pollers seen within `recentMs` count.
 */
export async function hasRecentPoller(
  target: Target,
  namespace: string,
  taskQueue: string,
  recentMs = 5_000,
): Promise<boolean> {
  return (await recentPollers(target, namespace, taskQueue, recentMs)).length > 0;
}

/** The identities (the SDK's default: pid@host) of the workers polling the task queue now. */
export async function recentPollers(
  target: Target,
  namespace: string,
  taskQueue: string,
  recentMs = 5_000,
): Promise<string[]> {
  const connection = await Connection.connect({
    ...(typeof target === 'string' ? { address: target } : target),
    connectTimeout: 2_000,
  });
  try {
    const res = await connection.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    });
    return (res.pollers ?? [])
      .filter((p) => Number(p.lastAccessTime?.seconds ?? 0) * 1000 > Date.now() - recentMs)
      .map((p) => p.identity ?? '');
  } finally {
    await connection.close();
  }
}
