import { status as grpcStatus } from '@grpc/grpc-js';
import type { MetricMeter } from '@temporalio/common';
import type { BudgetObserver } from './budget';
import { metrics as m } from '../../observability/metrics';

// Counts every Vertex AI RPC by method and gRPC status code, at the one place Vertex clients are
// made (infra/vertex/clients.ts). google-gax passes no interceptors through to its gRPC stubs, so the
// client objects are wrapped instead: an RPC is a method whose name starts with a verb and that
// returns a promise (path helpers return strings and are left alone). A long-running operation's
// own polling (GetOperation inside `operation.promise()`) is not counted.

const rpcName = /^(create|get|list|cancel|delete|upload|merge|update|deploy|undeploy)[A-Z]\w*$/;

/** A client method that is one unary Vertex RPC returning a promise (not a path helper, a stream or an iterator). */
export const isVertexRpc = (prop: string): boolean =>
  rpcName.test(prop) && !prop.endsWith('Async') && !prop.endsWith('Stream');

const codeName = (err: unknown): string => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' && grpcStatus[code] !== undefined ? grpcStatus[code] : 'UNKNOWN';
};

export function countVertexCalls<T extends object>(client: T, meter: MetricMeter): T {
  const calls = meter.createCounter(m.vertexCalls.name, undefined, m.vertexCalls.help);
  const latency = meter.createHistogram(m.vertexCallLatency.name, 'float', 's', m.vertexCallLatency.help);
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || typeof value !== 'function' || !isVertexRpc(prop)) return value;
      const method = prop[0]!.toUpperCase() + prop.slice(1);
      return (...args: unknown[]) => {
        const t0 = performance.now();
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(result instanceof Promise)) return result;
        return result.then(
          (v: unknown) => {
            calls.add(1, { method, code: 'OK' });
            latency.record((performance.now() - t0) / 1000, { method });
            return v;
          },
          (err: unknown) => {
            calls.add(1, { method, code: codeName(err) });
            latency.record((performance.now() - t0) / 1000, { method });
            throw err;
          },
        );
      };
    },
  });
}

/** The budget's waits (ct_vertex_budget_wait_seconds) and refusals (ct_vertex_budget_refused). */
export function budgetMetrics(meter: MetricMeter): BudgetObserver {
  const wait = meter.createHistogram(m.vertexBudgetWait.name, 'float', 's', m.vertexBudgetWait.help);
  const refused = meter.createCounter(m.vertexBudgetRefused.name, undefined, m.vertexBudgetRefused.help);
  return {
    opened: (region, bucket) => refused.add(0, { region, bucket }),
    waited: (region, bucket, ms) => wait.record(ms / 1000, { region, bucket }),
    refused: (region, bucket) => refused.add(1, { region, bucket }),
  };
}
