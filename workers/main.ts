import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadGcpEnv } from '../config/env';
import { createStorage } from '../config/gcp';
import { connectTo } from '../config/temporal';
import { createVertexClientFactory } from '../config/vertex';
import { loadWorkerSettings } from './settings';
import { createWorker } from './worker';

async function main(): Promise<void> {
  const { workerEnv, config, connect, target } = loadWorkerSettings();
  const gcpEnv = loadGcpEnv();
  const connectionOptions = connect.options;
  const nativeConnection = await connectTo(connectionOptions, (o) => NativeConnection.connect(o));
  const clientConnection = await connectTo(connectionOptions, (o) => Connection.connect(o));
  const vertex = createVertexClientFactory(gcpEnv);
  try {
    const worker = await createWorker({
      connection: nativeConnection,
      namespace: target.namespace,
      taskQueue: target.taskQueue,
      workflowBundle: workerEnv.CT_WORKFLOW_BUNDLE ? { codePath: workerEnv.CT_WORKFLOW_BUNDLE } : undefined,
      deps: {
        storage: createStorage(gcpEnv),
        vertex,
        config,
        temporal: new Client({ connection: clientConnection, namespace: target.namespace }),
      },
    });
    console.log(
      `worker: polling task queue ${target.taskQueue} in namespace ${target.namespace} at ${connect.options.address} for environments ${target.environments.join(', ')} (pipelines: ${Object.keys(config.pipelines).join(', ')})`,
    );
    // run() resolves after SIGINT/SIGTERM: the SDK's runtime drains in-flight tasks first.
    await worker.run();
  } finally {
    await vertex.close();
    await clientConnection.close();
    await nativeConnection.close();
  }
}

main().catch((err: unknown) => {
  console.error(`worker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
