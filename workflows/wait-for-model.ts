import { ApplicationFailure } from '@temporalio/common';
import { proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { Duration } from '../config/primitives';
import {
  liftInvalidInput,
  modelKey,
  modelWaitStatusQuery,
  parsePayload,
  searchAttributes as sa,
  WaitForModelInput,
  type ModelWaitStatus,
  type WaitForModelResult,
  MODEL_WAIT_TIMEOUT,
} from '../contracts';
import { awaitFreshModel, modelReadyInbox } from './support/model-wait';
import { serviceCall } from './support/activity-options';

// A consumer of model-ready: returns the model once one fresh enough is the champion, holding no
// compute while it waits (see model-wait.ts for how it is told).

const { resolveModelRef } = proxyActivities<Activities>(serviceCall);

// The input was checked against the same pattern: these durations parse.
const ms = (d: string) => Duration.parse(d);

export async function waitForModel(rawInput: WaitForModelInput): Promise<WaitForModelResult> {
  const input = parsePayload(WaitForModelInput, rawInput, 'waitForModel input');
  const key = modelKey(input);
  const bound = { minPartition: input.minPartition, trainedAfter: input.trainedAfter };
  const status: ModelWaitStatus = { waitingFor: key, ...bound };
  setHandler(modelWaitStatusQuery, () => status);
  const inbox = modelReadyInbox(key, bound);

  upsertSearchAttributes([
    { key: sa.awaitingModel, value: key },
    { key: sa.pipeline, value: input.pipeline },
    { key: sa.environment, value: input.environment },
    ...(input.segment ? [{ key: sa.segment, value: input.segment }] : []),
  ]);
  const ref = await resolveModelRef({
    environment: input.environment,
    pipeline: input.pipeline,
    segment: input.segment,
    minPartition: input.minPartition,
  }).catch((err: unknown) => {
    throw liftInvalidInput(err);
  });
  const outcome = await awaitFreshModel({
    ref,
    key: input,
    bound,
    inbox,
    deadline: Date.now() + ms(input.timeout),
    recheckMs: ms(input.recheckEvery),
    onLook: (champion, seen) => {
      status.champion = champion;
      setCurrentDetails(
        `**Waiting for a model** · ${key}${input.minPartition ? ` · trained on ${input.minPartition} or later` : ''}${input.trainedAfter ? ` · registered after ${input.trainedAfter}` : ''}\n\nNot yet: ${seen}.`,
      );
    },
  });
  if ('timedOut' in outcome)
    throw ApplicationFailure.nonRetryable(
      `no model for ${key} fresh enough within ${input.timeout}: ${outcome.seen}`,
      MODEL_WAIT_TIMEOUT,
    );
  return outcome;
}
