import type { v1 } from '@google-cloud/aiplatform';
import { value } from './vertex';

// Online traffic for tests: Predict requests through the real PredictionServiceClient, at a steady
// rate, in the background, so an endpoint's health (the emulator's Monitoring series) comes from
// requests its traffic split actually spread.

export interface LoadResult {
  sent: number;
  ok: number;
  /** Failed requests by gRPC code (a failed request does not say which deployed model served it). */
  errors: Record<number, number>;
  /** Successful requests by the deployed model that answered (PredictResponse.deployedModelId). */
  byDeployedModel: Record<string, number>;
}

export interface PredictionLoad {
  /** Resolves when `count` requests have been answered (never, without a count, until stopped). */
  done: Promise<LoadResult>;
  /** Stops sending, waits for the requests in flight and returns the counts. */
  stop(): Promise<LoadResult>;
  /** The counts so far. */
  readonly result: LoadResult;
}

export function startPredictionLoad(opts: {
  client: v1.PredictionServiceClient;
  /** The endpoint's full name (projects/…/locations/…/endpoints/…). */
  endpoint: string;
  /** How many requests; unbounded until stop() when omitted. */
  count?: number;
  ratePerSecond: number;
  /** The instances each request carries (default one small instance). */
  instances?: unknown[];
}): PredictionLoad {
  const result: LoadResult = { sent: 0, ok: 0, errors: {}, byDeployedModel: {} };
  const instances = (opts.instances ?? [{ x: 1 }]).map(value);
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const sendOne = () => {
    result.sent++;
    const p = opts.client
      .predict({ endpoint: opts.endpoint, instances })
      .then(
        ([res]) => {
          result.ok++;
          const id = res.deployedModelId ?? '';
          result.byDeployedModel[id] = (result.byDeployedModel[id] ?? 0) + 1;
        },
        (err: { code?: number }) => {
          const code = err.code ?? -1;
          result.errors[code] = (result.errors[code] ?? 0) + 1;
        },
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  const start = Date.now();
  // Paced against the clock, not per tick, so a slow event loop sends a burst rather than fewer.
  const tick = () => {
    const due = Math.floor(((Date.now() - start) / 1000) * opts.ratePerSecond) + 1;
    while (!stopped && result.sent < due && (opts.count === undefined || result.sent < opts.count)) sendOne();
    if (stopped || (opts.count !== undefined && result.sent >= opts.count)) {
      clearInterval(timer);
      void Promise.all(inFlight).then(finish);
    }
  };
  const timer = setInterval(tick, Math.max(5, Math.floor(1000 / opts.ratePerSecond)));
  tick();

  const settle = async () => {
    await finished;
    return { ...result, errors: { ...result.errors }, byDeployedModel: { ...result.byDeployedModel } };
  };
  return {
    done: settle(),
    async stop() {
      stopped = true;
      tick();
      return settle();
    },
    get result() {
      return result;
    },
  };
}
