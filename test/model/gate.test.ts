import { evaluateGate } from '../../workflows/support/model-gate';

const thresholds = [
  { metric: 'auc', op: '>=' as const, value: 0.8 },
  { metric: 'rmse', op: '<=' as const, value: 3.2 },
];

test('a candidate over every threshold passes, with the numbers side by side', () => {
  const v = evaluateGate({ thresholds }, { auc: 0.91, rmse: 2.9 });
  expect(v.passed).toBe(true);
  expect(v.checks).toEqual([
    { check: 'auc >= 0.8', metric: 'auc', candidate: 0.91, against: 0.8, passed: true },
    { check: 'rmse <= 3.2', metric: 'rmse', candidate: 2.9, against: 3.2, passed: true },
  ]);
  expect(v.reason).toBeUndefined();
});

test('a threshold missed, or a metric missing, rejects with a reason naming it', () => {
  const v = evaluateGate({ thresholds }, { auc: 0.75 });
  expect(v.passed).toBe(false);
  expect(v.reason).toBe('rejected: auc >= 0.8 (candidate 0.75); rmse <= 3.2 (candidate missing)');
});

test('the champion must be beaten by the configured margin, in the right direction', () => {
  const higher = { thresholds: [], champion: { metric: 'auc', higherIsBetter: true, minImprovement: 0.01 } };
  expect(evaluateGate(higher, { auc: 0.905 }, { version: '3', metrics: { auc: 0.9 } }).passed).toBe(false);
  const beaten = evaluateGate(higher, { auc: 0.92 }, { version: '3', metrics: { auc: 0.9 } });
  expect(beaten.passed).toBe(true);
  expect(beaten.checks[0]!.check).toBe('auc >= champion v3 (0.9 + 0.01)');
  const lower = { thresholds: [], champion: { metric: 'rmse', higherIsBetter: false, minImprovement: 0 } };
  expect(evaluateGate(lower, { rmse: 3 }, { version: '1', metrics: { rmse: 3 } }).passed).toBe(false); // equal is not better
  expect(evaluateGate(lower, { rmse: 2.5 }, { version: '1', metrics: { rmse: 3 } }).passed).toBe(true);
});

test('the first model of a pipeline (no champion yet) passes the champion check', () => {
  const v = evaluateGate(
    { thresholds, champion: { metric: 'auc', higherIsBetter: true, minImprovement: 0 } },
    { auc: 0.85, rmse: 3 },
  );
  expect(v.passed).toBe(true);
  expect(v.checks.at(-1)!.check).toBe('auc vs champion (none yet)');
});
