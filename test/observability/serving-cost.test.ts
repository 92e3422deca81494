// What online serving costs a day in the forecast: each serving pipeline's endpoints (one per
// segment), one model at its minimum replicas, at the price table's node-hour price.
import { loadPrices } from '../../config/prices';
import { servingCost } from '../../client/serving-cost';
import { projectWith, snsSegments } from '../helpers/pipelines';
import { servedPipeline } from '../helpers/serving-steps';

test('serving costs machine × replicas × 24 h a day per endpoint; an unpriced machine is named, not guessed', async () => {
  const iso = projectWith({
    served: servedPipeline({ machine: { machineType: 'n1-standard-2', minReplicas: 2, maxReplicas: 3 } }),
    segmented: { ...servedPipeline(), segments: snsSegments },
    exotic: servedPipeline({ machine: { machineType: 'a2-highgpu-1g' } }),
    offline: { ...servedPipeline(), serving: undefined },
  });
  try {
    const lines = servingCost(iso.config, 'staging', loadPrices());
    expect(lines).toEqual([
      { pipeline: 'served', endpoints: 1, machineType: 'n1-standard-2', replicas: 2, perDayUsd: 5.244 },
      { pipeline: 'segmented', endpoints: 3, machineType: 'n1-standard-2', replicas: 1, perDayUsd: 7.866 },
      { pipeline: 'exotic', endpoints: 1, machineType: 'a2-highgpu-1g', replicas: 1, perDayUsd: null },
    ]);
    expect(servingCost(iso.config, 'production', loadPrices())).toEqual([]);
  } finally {
    await iso.cleanup();
  }
});
