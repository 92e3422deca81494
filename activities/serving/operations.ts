import { Context } from '@temporalio/activity';

// Vertex's long-running operations (CreateEndpoint, DeployModel, UndeployModel) across a dead
// worker: the attempt that starts one heartbeats its name, and the next attempt polls that
// operation instead of starting another.

/** Resumes the operation the last attempt heartbeated, or starts one and heartbeats its name. */
export async function resumable<T>(
  start: () => Promise<{ name?: string | null; promise(): Promise<unknown> }>,
  check: (name: string) => Promise<{ promise(): Promise<unknown> }>,
): Promise<T> {
  const info = Context.current().info;
  const earlier = info.attempt > 1 ? (info.heartbeatDetails as { operation?: string } | undefined) : undefined;
  const op = earlier?.operation ? await check(earlier.operation) : await start();
  if (!earlier?.operation) Context.current().heartbeat({ operation: (op as { name?: string }).name });
  const beat = setInterval(() => Context.current().heartbeat({ operation: (op as { name?: string }).name }), 5_000);
  try {
    const [result] = (await op.promise()) as [T];
    return result;
  } finally {
    clearInterval(beat);
  }
}
