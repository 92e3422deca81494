import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/**
 * Whether a worker polls the task queue now. The server remembers pollers for a few minutes, so a
 * killed worker still shows: only pollers seen within `recentMs` count.
 */
export async function hasRecentPoller(
  address: string,
  namespace: string,
  taskQueue: string,
  recentMs = 5_000,
): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    const res = await connection.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    });
    return (res.pollers ?? []).some((p) => Number(p.lastAccessTime?.seconds ?? 0) * 1000 > Date.now() - recentMs);
  } finally {
    await connection.close();
  }
}
