import { Runtime, type Logger } from '@temporalio/worker';
import type { MetricMeter } from '@temporalio/common';
import type { TelemetryEnv } from '../config/env';
import { createLogger } from '../observability/logger';
import { metrics as m } from '../observability/metrics';

// The process-wide SDK runtime, installed once before any connection or worker. Its Prometheus
// endpoint serves the SDK's own metrics (workflow and activity latencies, failures, slots, pollers)
// and the domain's (observability/metrics.ts), all in seconds. Its logger receives the worker's,
// the workflows' (replay-safe), the activities' and the SDK core's log lines, so every line the
// worker prints is one JSON object (or, on a terminal, one readable line).

const durationBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400];
const callBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function installTelemetry(env: TelemetryEnv): { meter: MetricMeter; logger: Logger } {
  const logger = createLogger({
    format: env.CT_LOG_FORMAT ?? (process.stderr.isTTY ? 'pretty' : 'json'),
    level: env.CT_LOG_LEVEL,
  });
  // Node's own warnings (deprecations, experimental features) would otherwise print free text.
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    logger.warn(w.message, { sdkComponent: 'node', warning: w.name });
  });
  const bindAddress = env.CT_METRICS_ADDRESS;
  Runtime.install({
    logger,
    telemetryOptions: {
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(bindAddress && {
        metrics: {
          prometheus: {
            bindAddress,
            useSecondsForDurations: true,
            histogramBucketOverrides: {
              ...Object.fromEntries(
                Object.values(m)
                  .filter((d) => d.kind === 'histogram')
                  .map((d) => [d.name, durationBuckets]),
              ),
              [m.vertexCallLatency.name]: callBuckets,
              [m.vertexBudgetWait.name]: callBuckets,
            },
          },
        },
      }),
    },
  });
  return { meter: Runtime.instance().metricMeter, logger };
}
