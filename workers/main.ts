import { NativeConnection } from '@temporalio/worker';
import { loadGcpEnv, loadTemporalEnv } from '../config/env';
import { createStorage } from '../config/gcp';
import { temporalConnectionOptions } from '../config/temporal';
import { createWorker } from './worker';

async function main(): Promise<void> {
  const temporalEnv = loadTemporalEnv();
  const gcpEnv = loadGcpEnv();
  const connection = await NativeConnection.connect(temporalConnectionOptions(temporalEnv));
  try {
    const worker = await createWorker({
      connection,
      namespace: temporalEnv.TEMPORAL_NAMESPACE,
      taskQueue: temporalEnv.CT_TASK_QUEUE,
      deps: { storage: createStorage(gcpEnv) },
    });
    console.log(
      `worker: polling task queue ${temporalEnv.CT_TASK_QUEUE} in namespace ${temporalEnv.TEMPORAL_NAMESPACE} at ${temporalEnv.TEMPORAL_ADDRESS}`,
    );
    // run() resolves after SIGINT/SIGTERM: the SDK's runtime drains in-flight tasks first.
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(`worker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
