import { Runtime } from '@temporalio/worker';
import type { MetricMeter } from '@temporalio/common';
import type { TelemetryEnv } from '../config/env';
import { metrics as m } from '../observability/metrics';

// The process-wide SDK runtime, installed once before any connection or worker: its Prometheus
// endpoint serves the SDK's own metrics (workflow and activity latencies, failures, slots, pollers)
// and the domain's (observability/metrics.ts), all in seconds.

const durationBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400];
const callBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function installTelemetry(env: TelemetryEnv): { meter: MetricMeter } {
  const bindAddress = env.CT_METRICS_ADDRESS;
  Runtime.install({
    ...(bindAddress && {
      telemetryOptions: {
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
            },
          },
        },
      },
    }),
  });
  return { meter: Runtime.instance().metricMeter };
}
