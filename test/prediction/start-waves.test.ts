// A prediction run starts its children in waves of at most 100 per workflow task, the next wave once
// the server has recorded the last one's starts, instead of every segment in one task (the burst
// that set a worker's peak memory at 1,000 segments: docs/vertex-quota.md). 110 segments, no model:
// each child looks for a champion once and fails, so the run ends without a Vertex job.
import { startPredictionRun } from '../../client/prediction';
import { childStartWaves, expectStartedInWaves } from '../helpers/child-waves';
import { maybeSaveHistory } from '../helpers/histories';
import { withWorker } from '../helpers/temporal';
import { uniquePartition } from '../helpers/isolation';
import { batchPrediction, dailyData, kfpTraining, modelRegistry, projectWith } from '../helpers/pipelines';
import { seedPredictionInputs } from '../helpers/prediction-steps';

jest.setTimeout(180_000);

const COUNTRIES = ['JP', 'US', 'BR', 'DE', 'FR', 'IT', 'ES', 'GB', 'CA', 'MX', 'AU'];
const SNS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];

test('110 segments at once: the children start in waves of at most 100 per workflow task, every one exactly once', async () => {
  const [pipeline, environment] = ['waves', 'wavesenv'];
  const partition = uniquePartition('daily');
  const iso = projectWith(
    {
      [pipeline]: {
        data: dailyData(['waves_data']),
        training: kfpTraining,
        model: { registry: modelRegistry },
        prediction: batchPrediction({ countries: COUNTRIES, sns: SNS }, { maxConcurrentJobs: 200 }),
      },
    },
    environment,
  );
  try {
    await withWorker(
      async (ctx) => {
        const segments = COUNTRIES.flatMap((c) => SNS.map((s) => `${c.toLowerCase()}-${s}`));
        await seedPredictionInputs(ctx.storage, pipeline, partition, segments);
        const handle = await startPredictionRun(
          ctx.client,
          iso.config,
          { pipeline, environment, partition },
          { taskQueue: ctx.taskQueue },
        );
        const summary = await handle.result();
        await maybeSaveHistory(handle, 'prediction-run-waves');
        expect(summary.progress).toMatchObject({ total: 110, failed: 110 });

        const waves = childStartWaves((await handle.fetchHistory()).events ?? []);
        expectStartedInWaves(waves, 110);
      },
      { project: iso },
    );
  } finally {
    await iso.cleanup();
  }
});
