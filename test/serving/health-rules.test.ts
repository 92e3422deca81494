// The rollout's health verdict and its traffic split, as pure functions: the rules a step is judged
// by, including against the model being replaced, and splits that stay whole and sum to 100.
import { judge, splitAt } from '../../workflows/support/rollout-health';

const rules = {
  maxErrorRate: 0.01,
  maxP95LatencyMs: 500,
  vsPrevious: { errorRateRatio: 2, p95LatencyRatio: 1.5 },
  minPredictions: 20,
};
const at = '2030-01-01T00:00:00Z';
const figures = (predictions: number, errors: number, p95LatencyMs: number | null) => ({
  predictions,
  errors,
  p95LatencyMs,
});

test('health: thresholds, the previous model as the baseline, and too few predictions to judge', () => {
  expect(judge(rules, { at, candidate: figures(100, 0, 100), previous: figures(100, 0, 100) })).toEqual({
    kind: 'healthy',
  });
  expect(judge(rules, { at, candidate: figures(100, 2, 100) })).toMatchObject({
    kind: 'unhealthy',
    reason: 'error rate 2 % over 1 %',
  });
  expect(judge(rules, { at, candidate: figures(100, 0, 600) })).toMatchObject({
    kind: 'unhealthy',
    reason: 'p95 latency 600 ms over 500 ms',
  });
  // Within the absolute limits, but 1.6 × the previous model's latency (1.5 allowed).
  expect(judge(rules, { at, candidate: figures(100, 0, 320), previous: figures(100, 0, 200) })).toMatchObject({
    kind: 'unhealthy',
    reason: "p95 latency 320 ms against the previous model's 200 ms (×1.5 allowed)",
  });
  expect(judge(rules, { at, candidate: figures(10, 0, 100) })).toMatchObject({ kind: 'unknown' });
});

test('splits: the candidate at its step, the models before sharing the rest in their proportions, whole and summing to 100', () => {
  expect(splitAt({ a: 100 }, 'c', 10)).toEqual({ c: 10, a: 90 });
  expect(splitAt({ a: 50, b: 50 }, 'c', 33)).toEqual({ c: 33, a: 34, b: 33 });
  expect(splitAt({ a: 70, b: 30 }, 'c', 50)).toEqual({ c: 50, a: 35, b: 15 });
  expect(splitAt({ a: 100 }, 'c', 100)).toEqual({ c: 100 });
  expect(splitAt({}, 'c', 10)).toEqual({ c: 100 });
  for (const p of [1, 7, 33, 99]) {
    const split = splitAt({ a: 33, b: 33, d: 34 }, 'c', p);
    expect(Object.values(split).reduce((x, y) => x + y, 0)).toBe(100);
    expect(Object.values(split).every(Number.isInteger)).toBe(true);
  }
});
