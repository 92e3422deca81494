import { ApplicationFailure } from '@temporalio/common';
import { condition, log, proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  isFreshEnough,
  modelKey,
  ModelReady,
  modelReadySignal,
  modelWaitStatusQuery,
  parsePayload,
  searchAttributes as sa,
  WaitForModelInput,
  type ModelWaitStatus,
  type WaitForModelResult,
} from '../contracts';

// A consumer of model-ready: returns the model once one fresh enough is the champion. It holds no
// compute while it waits: a training run that promotes a model signals it (found by the
// `awaitingModel` search attribute), and a look at the registry every `recheckEvery` covers an
// announcement made before visibility had indexed this consumer.

const { resolveModelRef, findChampion } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

const ms = (d: string) => {
  const [, n, unit] = /^([0-9]+)(ms|s|m|h|d)$/.exec(d)!;
  return Number(n) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit as 'ms'];
};

export async function waitForModel(rawInput: WaitForModelInput): Promise<WaitForModelResult> {
  const input = parsePayload(WaitForModelInput, rawInput, 'waitForModel input');
  const key = modelKey(input);
  const bound = { minPartition: input.minPartition, trainedAfter: input.trainedAfter };
  const status: ModelWaitStatus = { waitingFor: key, ...bound };
  let announced: ModelReady | undefined;

  setHandler(modelWaitStatusQuery, () => status);
  setHandler(modelReadySignal, (raw) => {
    const parsed = ModelReady.safeParse(raw);
    // A signal cannot be refused to its sender: a malformed one is logged and changes nothing.
    if (!parsed.success) return void log.warn('ignored a malformed modelReady signal', { error: parsed.error.message });
    if (modelKey(parsed.data) === key && isFreshEnough(parsed.data, bound)) announced ??= parsed.data;
  });
  const show = (text: string) => setCurrentDetails(`**Waiting for a model** · ${key}${input.minPartition ? ` · trained on ${input.minPartition} or later` : ''}${input.trainedAfter ? ` · registered after ${input.trainedAfter}` : ''}\n\n${text}`);

  // Findable before the first look at the registry: a model promoted after that look is announced to us.
  upsertSearchAttributes([
    { key: sa.awaitingModel, value: key },
    { key: sa.pipeline, value: input.pipeline },
    { key: sa.environment, value: input.environment },
    ...(input.segment ? [{ key: sa.segment, value: input.segment }] : []),
  ]);
  const ref = await resolveModelRef({ environment: input.environment, pipeline: input.pipeline, segment: input.segment });
  const deadline = Date.now() + ms(input.timeout);
  for (;;) {
    const champion = await findChampion(ref);
    status.champion = champion && { version: champion.version, partition: champion.partition, trainedAt: champion.trainedAt };
    if (announced) return { ...announced, source: 'announcement' };
    if (champion && isFreshEnough(champion, bound)) {
      return {
        environment: input.environment,
        pipeline: input.pipeline,
        segment: input.segment ?? null,
        model: champion.model,
        version: champion.version,
        modelVersionName: `${champion.model}@${champion.version}`,
        aliases: champion.aliases,
        metrics: champion.metrics,
        partition: champion.partition ?? '',
        trainedAt: champion.trainedAt ?? '',
        source: 'registry',
      };
    }
    const seen = champion ? `the champion is v${champion.version}${champion.partition ? `, trained on ${champion.partition}` : ''}` : 'there is no champion yet';
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw ApplicationFailure.nonRetryable(`no model for ${key} fresh enough within ${input.timeout}: ${seen}`, 'ModelWaitTimeout');
    }
    show(`Not yet: ${seen}.`);
    if (await condition(() => announced !== undefined, Math.min(remaining, ms(input.recheckEvery)))) return { ...announced!, source: 'announcement' };
  }
}
