// The evaluation gate, evaluated inside the workflow: it is pure and deterministic, so it costs
// no activity, and its verdict (with every number) is part of the run's history.

import type { GateCheck, GateResult, ModelPlan } from '../../contracts';
export type Comparison = '>=' | '>' | '<=' | '<';

type GatePolicy = Pick<ModelPlan, 'thresholds' | 'champion'>;

const compare: Record<Comparison, (a: number, b: number) => boolean> = {
  '>=': (a, b) => a >= b,
  '>': (a, b) => a > b,
  '<=': (a, b) => a <= b,
  '<': (a, b) => a < b,
};

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Judges a candidate's metrics against thresholds and, if asked, against the current champion's.
 * A metric the candidate lacks fails its check (a gate that cannot be evaluated does not pass);
 * with no champion yet (the first model of a pipeline) the champion check is passed and says so.
 */
export function evaluateGate(
  policy: GatePolicy,
  candidate: Record<string, unknown>,
  champion?: { version: string; metrics: Record<string, unknown> },
): GateResult {
  const checks: GateCheck[] = policy.thresholds.map(({ metric, op, value }) => {
    const c = num(candidate[metric]);
    return {
      check: `${metric} ${op} ${value}`,
      metric,
      candidate: c,
      against: value,
      passed: c !== null && compare[op](c, value),
    };
  });
  const rule = policy.champion;
  if (rule) {
    const c = num(candidate[rule.metric]);
    const best = champion ? num(champion.metrics[rule.metric]) : null;
    if (best === null) {
      checks.push({
        check: `${rule.metric} vs champion (none yet)`,
        metric: rule.metric,
        candidate: c,
        against: null,
        passed: c !== null,
      });
    } else {
      const bar = rule.higherIsBetter ? best + rule.minImprovement : best - rule.minImprovement;
      const op: Comparison = rule.higherIsBetter
        ? rule.minImprovement
          ? '>='
          : '>'
        : rule.minImprovement
          ? '<='
          : '<';
      checks.push({
        check: `${rule.metric} ${op} champion v${champion!.version} (${best}${rule.minImprovement ? ` ${rule.higherIsBetter ? '+' : '-'} ${rule.minImprovement}` : ''})`,
        metric: rule.metric,
        candidate: c,
        against: bar,
        passed: c !== null && compare[op](c, bar),
      });
    }
  }
  const failed = checks.filter((c) => !c.passed);
  return {
    passed: failed.length === 0,
    checks,
    reason: failed.length
      ? `rejected: ${failed.map((f) => `${f.check} (candidate ${f.candidate ?? 'missing'})`).join('; ')}`
      : undefined,
  };
}
