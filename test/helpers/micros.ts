/**
 * Dollars and hours are reported rounded to the micro (contracts/cost.ts roundMicros): a reported
 * figure is off its exact value by up to half a micro, and one derived from other rounded figures
 * by up to a micro more. Equal to within `micros` micros.
 */
export function expectWithinMicros(actual: number, expected: number, micros = 1): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(micros * 1e-6 + 1e-12);
}
