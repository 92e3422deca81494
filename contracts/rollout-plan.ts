// What a rollout's planning activity resolves from the config, once, into the workflow's history:
// a config change mid-rollout does not change the rollout in flight.

export interface RolloutPlan {
  workflowId: string;
  pipeline: string;
  environment: string;
  segment: string | null;
  project: string;
  region: string;
  /** The registry model's resource name (no @version) and its id. */
  model: string;
  modelId: string;
  version: string;
  endpointDisplayName: string;
  endpointLabels: Record<string, string>;
  /** The label every endpoint this target uses carries, so a lost create is found by a retry. */
  servingKey: string;
  machine: { machineType: string; minReplicas: number; maxReplicas: number };
  steps: number[];
  watchMs: number;
  checkMs: number;
  health: {
    maxErrorRate: number;
    maxP95LatencyMs: number;
    vsPrevious?: { errorRateRatio: number; p95LatencyRatio: number };
    minPredictions: number;
  };
  approveEachStep: boolean;
  keepPreviousMs: number;
  smoke?: { instances: unknown[]; expected: unknown[]; tolerance: number };
  /** The machine's node-hour price in the region (config/prices.yaml); null when the table has none. */
  nodeHourUsd: number | null;
}
