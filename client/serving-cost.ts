import type { PipelineConfig } from '../config/pipeline-config';
import { roundMicros } from '../contracts/cost';
import { ratesFor, type Prices } from '../config/prices';
import { segmentsOf } from '../config/runs';
import { servesOnline } from '../starts/rollout';

// What online serving costs while it runs: Vertex bills a deployed model's node-hours (machine ×
// replicas) for as long as it is deployed, whether it serves traffic or not. One endpoint per
// serving pipeline and segment, each with one model at its minimum replicas between rollouts.

export interface ServingLine {
  pipeline: string;
  /** Endpoints: one per segment of a per-segment pipeline. */
  endpoints: number;
  machineType: string;
  replicas: number;
  /** null: the price table has no node-hour price for the machine in the region. */
  perDayUsd: number | null;
}

export function servingCost(
  config: PipelineConfig,
  environment: string,
  prices: Prices,
  pipeline?: string,
): ServingLine[] {
  return Object.entries(config.pipelines)
    .filter(([name]) => !pipeline || name === pipeline)
    .filter(([name]) => servesOnline(config, { pipeline: name, environment }))
    .flatMap(([name, p]) => {
      const env = p.environments[environment];
      if (!env) return [];
      const { machineType, minReplicas } = p.serving!.machine;
      const nodeHour = ratesFor(prices, env.region)?.nodeHour[machineType];
      const endpoints = Math.max(1, segmentsOf(p).length);
      return [
        {
          pipeline: name,
          endpoints,
          machineType,
          replicas: minReplicas,
          perDayUsd: nodeHour === undefined ? null : roundMicros(endpoints * minReplicas * nodeHour * 24),
        },
      ];
    });
}
