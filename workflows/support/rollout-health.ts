import type { HealthFigures, RolloutPlan } from '../../contracts';

// Whether a step's health so far lets the rollout go on. Three answers: healthy; unhealthy (roll
// back now); unknown (too few predictions, or no read) — which never lets a step pass.

export type Verdict = { kind: 'healthy' } | { kind: 'unhealthy' | 'unknown'; reason: string };

const rate = (f: { predictions: number; errors: number }) => (f.predictions ? f.errors / f.predictions : 0);
const pct = (x: number) => `${(Math.round(x * 10_000) / 100).toString()} %`;

export function judge(rules: RolloutPlan['health'], h: HealthFigures): Verdict {
  const c = h.candidate;
  const errorRate = rate(c);
  if (c.predictions > 0 && errorRate > rules.maxErrorRate)
    return { kind: 'unhealthy', reason: `error rate ${pct(errorRate)} over ${pct(rules.maxErrorRate)}` };
  if (c.p95LatencyMs !== null && c.p95LatencyMs > rules.maxP95LatencyMs)
    return { kind: 'unhealthy', reason: `p95 latency ${c.p95LatencyMs} ms over ${rules.maxP95LatencyMs} ms` };
  const vs = rules.vsPrevious;
  const p = h.previous;
  if (vs && p && p.predictions > 0 && c.predictions > 0) {
    const before = rate(p);
    if (errorRate > Math.max(before * vs.errorRateRatio, before + 1 / c.predictions))
      return {
        kind: 'unhealthy',
        reason: `error rate ${pct(errorRate)} against the previous model's ${pct(before)} (×${vs.errorRateRatio} allowed)`,
      };
    if (c.p95LatencyMs !== null && p.p95LatencyMs !== null && c.p95LatencyMs > p.p95LatencyMs * vs.p95LatencyRatio)
      return {
        kind: 'unhealthy',
        reason: `p95 latency ${c.p95LatencyMs} ms against the previous model's ${p.p95LatencyMs} ms (×${vs.p95LatencyRatio} allowed)`,
      };
  }
  if (c.predictions < rules.minPredictions)
    return {
      kind: 'unknown',
      reason: `${c.predictions} predictions served by the candidate, fewer than the ${rules.minPredictions} that show health`,
    };
  return { kind: 'healthy' };
}

/**
 * The split with the candidate at `percent` and the models that served before sharing the rest in
 * their old proportions (largest remainder, so the values are whole and sum to 100).
 */
export function splitAt(before: Record<string, number>, candidate: string, percent: number): Record<string, number> {
  const others = Object.entries(before).filter(([id, p]) => id !== candidate && p > 0);
  const total = others.reduce((n, [, p]) => n + p, 0);
  if (!others.length || percent >= 100) return { [candidate]: 100 };
  const rest = 100 - percent;
  const exact = others.map(([id, p]) => ({ id, share: (p / total) * rest }));
  const split: Record<string, number> = { [candidate]: percent };
  for (const e of exact) split[e.id] = Math.floor(e.share);
  let left = rest - exact.reduce((n, e) => n + Math.floor(e.share), 0);
  for (const e of [...exact].sort((a, b) => b.share - Math.floor(b.share) - (a.share - Math.floor(a.share)))) {
    if (left-- <= 0) break;
    split[e.id]! += 1;
  }
  return split;
}
