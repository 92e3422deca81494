import { condition, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { isFreshEnough, modelKey, ModelReady, modelReadySignal, type WaitForModelResult } from '../../contracts';
import { serviceCall } from './activity-options';

// Waiting for a model fresh enough, shared by `waitForModel` and prediction segments. The caller
// marks itself with the `awaitingModel` search attribute before the first look at the registry, so
// a training run that promotes a model after that look signals it; a look every `recheckMs` covers
// an announcement made before visibility had indexed the caller.

const { findChampion } = proxyActivities<Activities>(serviceCall);

export interface Bound {
  minPartition?: string;
  trainedAfter?: string;
}

export type ChampionSeen = { version: string; partition?: string; trainedAt?: string } | null;

/** Registers the modelReady signal handler: keeps the first announcement for `key` that is fresh enough. */
export function modelReadyInbox(key: string, bound: Bound): () => ModelReady | undefined {
  let announced: ModelReady | undefined;
  setHandler(modelReadySignal, (raw) => {
    const parsed = ModelReady.safeParse(raw);
    // A signal cannot be refused to its sender: a malformed one is logged and changes nothing.
    if (!parsed.success) return void log.warn('ignored a malformed modelReady signal', { error: parsed.error.message });
    if (modelKey(parsed.data) === key && isFreshEnough(parsed.data, bound)) announced ??= parsed.data;
  });
  return () => announced;
}

export async function awaitFreshModel(opts: {
  ref: { project: string; region: string; modelId: string };
  key: { environment: string; pipeline: string; segment?: string };
  bound: Bound;
  inbox: () => ModelReady | undefined;
  deadline: number;
  recheckMs: number;
  /** Called after each look at the registry, with what it saw and whether the wait goes on. */
  onLook?: (champion: ChampionSeen, seen: string) => void;
}): Promise<WaitForModelResult | { timedOut: true; seen: string }> {
  for (;;) {
    const champion = await findChampion(opts.ref);
    const announced = opts.inbox();
    if (announced) return { ...announced, source: 'announcement' };
    if (champion && isFreshEnough(champion, opts.bound)) {
      return {
        environment: opts.key.environment,
        pipeline: opts.key.pipeline,
        segment: opts.key.segment ?? null,
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
    const seen = champion
      ? `the champion is v${champion.version}${champion.partition ? `, trained on ${champion.partition}` : ''}`
      : 'there is no champion yet';
    opts.onLook?.(
      champion && { version: champion.version, partition: champion.partition, trainedAt: champion.trainedAt },
      seen,
    );
    const remaining = opts.deadline - Date.now();
    if (remaining <= 0) return { timedOut: true, seen };
    if (await condition(() => opts.inbox() !== undefined, Math.min(remaining, opts.recheckMs)))
      return { ...opts.inbox()!, source: 'announcement' };
  }
}
