import { Violations } from './errors';

// An endpoint's traffic_split (DeployedModel id → percent) as Vertex checks it, and how the
// emulator spreads requests over it: exactly, so a test can count what each deployed model got.

export type TrafficSplit = Record<string, number>;

/**
 * Throws INVALID_ARGUMENT unless `split` names only `known` ids and its values add up to 100; an
 * empty split passes when `allowEmpty` (no model receives traffic).
 */
export function checkSplit(split: TrafficSplit, known: readonly string[], field: string, allowEmpty: boolean): void {
  const v = new Violations();
  const entries = Object.entries(split);
  if (entries.length === 0) {
    if (!allowEmpty) v.add(field, 'The traffic split must not be empty here.');
    return v.throwIfAny();
  }
  for (const [id, percent] of entries) {
    if (!known.includes(id)) v.add(`${field}[${id}]`, `"${id}" is not a DeployedModel of this Endpoint.`);
    if (!Number.isInteger(percent) || percent < 0 || percent > 100)
      v.add(`${field}[${id}]`, `${percent} is not a percentage (an integer from 0 to 100).`);
  }
  const sum = entries.reduce((s, [, p]) => s + p, 0);
  if (sum !== 100) v.add(field, `Sum of all traffic within traffic split needs to be 100, got ${sum}.`);
  v.throwIfAny();
}

/**
 * Smooth weighted round-robin per endpoint: over any 100 consecutive requests under one split, each
 * deployed model serves exactly its percentage, interleaved rather than in runs. A new split starts
 * afresh.
 */
export class SplitPicker {
  private readonly state = new Map<string, { split: string; current: Map<string, number> }>();

  /** The deployed model that serves the endpoint's next request; undefined when nothing has traffic. */
  pick(endpointKey: string, split: TrafficSplit): string | undefined {
    const weights = Object.entries(split).filter(([, w]) => w > 0);
    if (weights.length === 0) return undefined;
    const signature = JSON.stringify(weights.sort(([a], [b]) => a.localeCompare(b)));
    let s = this.state.get(endpointKey);
    if (!s || s.split !== signature) {
      s = { split: signature, current: new Map(weights.map(([id]) => [id, 0])) };
      this.state.set(endpointKey, s);
    }
    const total = weights.reduce((t, [, w]) => t + w, 0);
    let best: string | undefined;
    for (const [id, w] of weights) {
      const c = s.current.get(id)! + w;
      s.current.set(id, c);
      if (best === undefined || c > s.current.get(best)!) best = id;
    }
    s.current.set(best!, s.current.get(best!)! - total);
    return best;
  }

  forget(endpointKey: string): void {
    this.state.delete(endpointKey);
  }
}
