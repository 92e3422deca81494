// Failure type names are defined once (contracts/failure-types.ts): callers match them, so a type
// spelled as a literal somewhere else, or Airflow's copy drifting, would silently stop a match.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as failureTypes from '../../contracts/failure-types';

const root = path.join(__dirname, '..', '..');
const sources = (dirs: string[]) =>
  dirs.flatMap((d) =>
    readdirSync(path.join(root, d), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.join(d, f)),
  );

/** Types given as string literals where a failure is raised: nonRetryable(msg, 'X'), create({ type: 'X' }), nonRetryableErrorTypes: ['X']. */
function literalFailureTypes(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/nonRetryable\([\s\S]*?,\s*'([A-Za-z]+)'\s*,?\s*\)/g)) found.push(m[1]!);
  for (const m of source.matchAll(/\btype:\s*'([A-Z][A-Za-z]+)'/g)) found.push(m[1]!);
  for (const m of source.matchAll(/nonRetryableErrorTypes:\s*\[([^\]]*)\]/g))
    for (const l of m[1]!.matchAll(/'([A-Za-z]+)'/g)) found.push(l[1]!);
  return found;
}

test('no failure type is spelled as a literal outside contracts/failure-types.ts', () => {
  expect(literalFailureTypes(`throw ApplicationFailure.nonRetryable(\`x\`, 'Nope');`)).toEqual(['Nope']);
  expect(literalFailureTypes(`ApplicationFailure.create({ message: m, type: 'NopeToo' })`)).toEqual(['NopeToo']);
  const offenders = sources(['activities', 'workflows', 'client', 'config', 'workers']).flatMap((f) =>
    literalFailureTypes(readFileSync(path.join(root, f), 'utf8')).map((t) => `${f}: '${t}'`),
  );
  expect(offenders).toEqual([]);
});

test("Airflow's hook matches InvalidInput by the contracts' name", () => {
  const hook = readFileSync(path.join(root, 'integrations/airflow/ct_coordinator_airflow/hook.py'), 'utf8');
  expect(hook.match(/^INVALID_INPUT = "([^"]+)"$/m)?.[1]).toBe(failureTypes.INVALID_INPUT);
});
