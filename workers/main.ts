import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadGcpEnv, loadTemporalEnv } from '../config/env';
import { createStorage } from '../config/gcp';
import { loadConfig } from '../config/load-config';
import { connectTo, temporalConnectConfig } from '../config/temporal';
import { createVertexClientFactory, vertexWatchSettings } from '../config/vertex';
import { createWorker } from './worker';

async function main(): Promise<void> {
  const temporalEnv = loadTemporalEnv();
  const gcpEnv = loadGcpEnv();
  // Parsed once at start: a bad config stops the worker with every problem listed.
  const config = loadConfig();
  const connect = temporalConnectConfig(temporalEnv);
  const connectionOptions = connect.options;
  const nativeConnection = await connectTo(connectionOptions, (o) => NativeConnection.connect(o));
  const clientConnection = await connectTo(connectionOptions, (o) => Connection.connect(o));
  const vertex = createVertexClientFactory(gcpEnv);
  try {
    const worker = await createWorker({
      connection: nativeConnection,
      namespace: connect.namespace,
      taskQueue: temporalEnv.CT_TASK_QUEUE,
      workflowBundle: temporalEnv.CT_WORKFLOW_BUNDLE ? { codePath: temporalEnv.CT_WORKFLOW_BUNDLE } : undefined,
      deps: {
        storage: createStorage(gcpEnv),
        vertex,
        watch: vertexWatchSettings(gcpEnv),
        config,
        temporal: new Client({ connection: clientConnection, namespace: connect.namespace }),
      },
    });
    console.log(
      `worker: polling task queue ${temporalEnv.CT_TASK_QUEUE} in namespace ${connect.namespace} at ${connect.options.address} (pipelines: ${Object.keys(config.pipelines).join(', ')})`,
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
