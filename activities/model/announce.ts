import type { Storage } from '@google-cloud/storage';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { modelKey, modelReadySignal, searchAttributes as sa, type ModelReady } from '../../contracts';
import { writeModelReadyFiles } from './artifacts';

// Model-ready, told two ways: files in GCS for today's flag-file consumers, and a signal to every
// consumer workflow waiting for this model. Consumers mark themselves with the `awaitingModel`
// search attribute before they look at the registry, so one that looked too early is found here;
// one that visibility has not indexed yet finds the new champion on its next look (see waitForModel).

export function createAnnounceActivity(deps: { storage: Storage; temporal: Client }) {
  return async function announceModel(req: { manifest: ModelReady; manifestUri?: string; flagUri?: string }): Promise<{ consumersTold: number }> {
    if (req.manifestUri) await writeModelReadyFiles(deps.storage, { manifestUri: req.manifestUri, flagUri: req.flagUri, manifest: req.manifest });
    const query = `${sa.awaitingModel.name} = "${modelKey(req.manifest)}" AND ExecutionStatus = "Running"`;
    let told = 0;
    for await (const consumer of deps.temporal.workflow.list({ query })) {
      try {
        // A retry signals again: consumers take the first announcement that is fresh enough.
        await deps.temporal.workflow.getHandle(consumer.workflowId, consumer.runId).signal(modelReadySignal, req.manifest);
        told++;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err; // it finished meanwhile
      }
    }
    return { consumersTold: told };
  };
}
