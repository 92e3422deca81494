import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadGcpEnv, loadTelemetryEnv, loadTemporalEnv } from '../config/env';
import { createStorage } from '../config/gcp';
import { loadConfig } from '../config/load-config';
import { connectTo, temporalConnectConfig } from '../config/temporal';
import { createVertexClientFactory } from '../config/vertex';
import { startRunGauges } from '../observability/run-gauges';
import { installTelemetry } from './telemetry';
import { createWorker } from './worker';

async function main(): Promise<void> {
  const temporalEnv = loadTemporalEnv();
  const gcpEnv = loadGcpEnv();
  const telemetryEnv = loadTelemetryEnv();
  // Before any connection: the runtime (metrics endpoint, logger) is created with the first one.
  const { meter } = installTelemetry(telemetryEnv);
  // Parsed once at start: a bad config stops the worker with every problem listed.
  const config = loadConfig();
  const connect = temporalConnectConfig(temporalEnv);
  const connectionOptions = connect.options;
  const nativeConnection = await connectTo(connectionOptions, (o) => NativeConnection.connect(o));
  const clientConnection = await connectTo(connectionOptions, (o) => Connection.connect(o));
  const vertex = createVertexClientFactory(gcpEnv, meter);
  const client = new Client({ connection: clientConnection, namespace: connect.namespace });
  const gauges =
    telemetryEnv.CT_METRICS_ADDRESS && telemetryEnv.CT_RUN_GAUGES_INTERVAL_MS > 0
      ? startRunGauges({
          client,
          meter,
          intervalMs: telemetryEnv.CT_RUN_GAUGES_INTERVAL_MS,
          onError: (err) => console.error(`worker: refreshing the run gauges failed: ${String(err)}`),
        })
      : undefined;
  try {
    const worker = await createWorker({
      connection: nativeConnection,
      namespace: connect.namespace,
      taskQueue: temporalEnv.CT_TASK_QUEUE,
      workflowBundle: temporalEnv.CT_WORKFLOW_BUNDLE ? { codePath: temporalEnv.CT_WORKFLOW_BUNDLE } : undefined,
      deps: {
        storage: createStorage(gcpEnv),
        vertex,
        config,
        temporal: client,
      },
    });
    if (telemetryEnv.CT_METRICS_ADDRESS)
      console.log(`worker: metrics on http://${telemetryEnv.CT_METRICS_ADDRESS}/metrics`);
    console.log(
      `worker: polling task queue ${temporalEnv.CT_TASK_QUEUE} in namespace ${connect.namespace} at ${connect.options.address} (pipelines: ${Object.keys(config.pipelines).join(', ')})`,
    );
    // run() resolves after SIGINT/SIGTERM: the SDK's runtime drains in-flight tasks first.
    await worker.run();
  } finally {
    gauges?.stop();
    await vertex.close();
    await clientConnection.close();
    await nativeConnection.close();
  }
}

main().catch((err: unknown) => {
  console.error(`worker: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
