import { Client, Connection } from '@temporalio/client';
import { createMonitoringClient } from '../infra/monitoring';
import { NativeConnection, type Logger } from '@temporalio/worker';
import { loadGcpEnv, loadTelemetryEnv } from '../config/env';
import { createStorage, flagWatchSettings } from '../infra/gcs';
import { ensureFlagWatches } from '../starts/flag-watch';
import { pricesOnce } from '../config/prices';
import { connectTo } from '../infra/temporal/connect';
import { createVertexClientFactory, vertexWatchSettings } from '../infra/vertex/clients';
import { formatJson, formatPretty } from '../observability/log-format';
import { startRunGauges } from '../observability/run-gauges';
import { processAllocator } from './allocator';
import { loadWorkerSettings } from './settings';
import { deploymentOptions } from './versioning';
import { installTelemetry } from './telemetry';
import { createWorker } from './worker';

let logger: Logger | undefined;

async function main(): Promise<void> {
  const gcpEnv = loadGcpEnv();
  const telemetryEnv = loadTelemetryEnv();
  // Before any connection: the runtime (metrics endpoint, logger) is created with the first one.
  const telemetry = installTelemetry(telemetryEnv);
  const { meter } = telemetry;
  const log = (logger = telemetry.logger);
  // Parsed once at start: a bad config, or one that disagrees with where the worker would poll, stops it with every problem listed.
  const { workerEnv, config, connect, target } = loadWorkerSettings();
  const deployment = deploymentOptions(workerEnv);
  const connectionOptions = connect.options;
  const nativeConnection = await connectTo(connectionOptions, (o) => NativeConnection.connect(o));
  const clientConnection = await connectTo(connectionOptions, (o) => Connection.connect(o));
  const vertex = createVertexClientFactory(gcpEnv, meter);
  const client = new Client({ connection: clientConnection, namespace: target.namespace });
  const gauges =
    telemetryEnv.CT_METRICS_ADDRESS && telemetryEnv.CT_RUN_GAUGES_INTERVAL_MS > 0
      ? startRunGauges({
          client,
          meter,
          intervalMs: telemetryEnv.CT_RUN_GAUGES_INTERVAL_MS,
          onError: (err) => {
            log.warn('worker: refreshing the run gauges failed', { error: err });
          },
        })
      : undefined;
  try {
    const worker = await createWorker({
      connection: nativeConnection,
      namespace: target.namespace,
      taskQueue: target.taskQueue,
      workflowBundle: workerEnv.CT_WORKFLOW_BUNDLE ? { codePath: workerEnv.CT_WORKFLOW_BUNDLE } : undefined,
      deployment,
      maxCachedWorkflows: workerEnv.CT_MAX_CACHED_WORKFLOWS,
      createsPerMinute: gcpEnv.CT_VERTEX_CREATES_PER_MINUTE,
      deps: {
        storage: createStorage(gcpEnv),
        vertex,
        monitoring: createMonitoringClient(gcpEnv),
        watch: vertexWatchSettings(gcpEnv),
        lateCreateWindowMs: gcpEnv.CT_VERTEX_LATE_CREATE_WINDOW_MS,
        // The watch leaves room for the worker's other reads, as its budget counts them.
        readUsage: vertex.budget,
        meter,
        flagWatch: flagWatchSettings(gcpEnv),
        config,
        temporal: client,
        // Parsed at start too: a bad price table stops the worker rather than every run's planning.
        prices: pricesOnce(),
      },
    });
    if (telemetryEnv.CT_METRICS_ADDRESS)
      log.info(`worker: metrics on http://${telemetryEnv.CT_METRICS_ADDRESS}/metrics`);
    log.info(
      `worker: polling task queue ${target.taskQueue} in namespace ${target.namespace} at ${connect.options.address} for environments ${target.environments.join(', ')} (pipelines: ${Object.keys(config.pipelines).join(', ')})`,
      {
        taskQueue: target.taskQueue,
        namespace: target.namespace,
        ...(deployment
          ? { deploymentVersion: `${deployment.version.deploymentName}.${deployment.version.buildId}` }
          : {}),
      },
    );
    const allocator = processAllocator();
    if (allocator === 'glibc')
      log.warn(
        "worker: running on glibc's malloc, which keeps what it frees: preload jemalloc (LD_PRELOAD=libjemalloc.so.2, as the image does) for ~200 MB less per worker at thousands of jobs (docs/production.md, Memory)",
        { allocator },
      );
    else log.info(`worker: allocator ${allocator}`, { allocator, mallocConf: process.env.MALLOC_CONF ?? '' });
    // The watches of the flags this worker's environments name (docs/triggers.md); they run on its queue.
    const watches = await ensureFlagWatches(client, config, {
      environments: target.environments,
      taskQueue: target.taskQueue,
    });
    for (const w of watches)
      log.info(`worker: flag watch ${w.workflowId} (${w.sources} flag template(s) in ${w.groups} listing group(s))`, {
        workflowId: w.workflowId,
      });
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
  const message = `worker: ${err instanceof Error ? err.message : String(err)}`;
  // Failing before the logger exists (a bad environment) still prints one line in the log format.
  if (logger) logger.error(message);
  else {
    const entry = { time: new Date(), level: 'ERROR' as const, message };
    const pretty = process.env.CT_LOG_FORMAT === 'pretty' || (!process.env.CT_LOG_FORMAT && process.stderr.isTTY);
    process.stderr.write(`${pretty ? formatPretty(entry) : formatJson(entry)}\n`);
  }
  process.exit(1);
});
