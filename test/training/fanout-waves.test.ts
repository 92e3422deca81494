// A training fan-out starts its children in waves of at most 100 per workflow task (as a prediction
// run does: test/prediction/start-waves.test.ts). 110 segments, their data not ready: each child
// waits for data-ready, holding nothing; once all have started, the fan-out is cancelled.
import { startTrainingFanout } from '../../client/training';
import { childStartWaves, expectStartedInWaves } from '../helpers/child-waves';
import { withWorker } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { uniquePartition } from '../helpers/isolation';
import { kfpTrainingPerSegment, projectWith, snsData } from '../helpers/pipelines';

jest.setTimeout(180_000);

const COUNTRIES = ['JP', 'US', 'BR', 'DE', 'FR', 'IT', 'ES', 'GB', 'CA', 'MX', 'AU'];
const SNS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];

test('110 segments at once: the training runs start in waves of at most 100 per workflow task, every one once', async () => {
  const iso = projectWith({
    wide: {
      data: snsData,
      training: kfpTrainingPerSegment,
      segments: { countries: COUNTRIES, sns: SNS },
      fanOut: { maxConcurrentRuns: 200 },
    },
  });
  try {
    await withWorker(
      async (ctx) => {
        const handle = await startTrainingFanout(
          ctx.client,
          iso.config,
          { pipeline: 'wide', environment: 'staging', partition: uniquePartition('daily') },
          { taskQueue: ctx.taskQueue },
        );
        /** The children each workflow task of the fan-out started, in order, once all 110 have started. */
        const waves = await eventually(async () => {
          const events = (await handle.fetchHistory()).events ?? [];
          if (events.filter((e) => e.childWorkflowExecutionStartedEventAttributes).length < 110) return undefined;
          return childStartWaves(events);
        }, 60_000);
        await handle.cancel();
        // The cancel reaches every child: the fan-out ends once they have.
        await expect(handle.result()).rejects.toThrow();
        expectStartedInWaves(waves, 110);
      },
      { project: iso },
    );
  } finally {
    await iso.cleanup();
  }
});
