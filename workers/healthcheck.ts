// The worker image's health check (Dockerfile HEALTHCHECK): healthy while a worker on this host
// polls the task queue its config names. A container's hostname is its own, and the SDK's worker
// identity is pid@hostname. Exit 0 healthy, 1 not (with the reason).
import os from 'node:os';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { connectTo } from '../infra/temporal/connect';
import { loadWorkerSettings } from './settings';

// An idle long poll lasts about a minute, and the server records a poller when its poll begins.
const RECENT_MS = 90_000;

async function main(): Promise<void> {
  const { connect, target } = loadWorkerSettings();
  const connection = await connectTo({ ...connect.options }, (o) =>
    Connection.connect({ ...o, connectTimeout: 5_000 }),
  );
  try {
    const res = await connection.workflowService.describeTaskQueue({
      namespace: target.namespace,
      taskQueue: { name: target.taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    });
    const mine = (res.pollers ?? []).filter(
      (p) =>
        (p.identity ?? '').endsWith(`@${os.hostname()}`) &&
        Number(p.lastAccessTime?.seconds ?? 0) * 1000 > Date.now() - RECENT_MS,
    );
    if (!mine.length) throw new Error(`no worker on ${os.hostname()} polls ${target.namespace}/${target.taskQueue}`);
    console.log(`healthy: ${mine.map((p) => p.identity).join(', ')} polling ${target.namespace}/${target.taskQueue}`);
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(`unhealthy: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
