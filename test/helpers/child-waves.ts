import type { temporal } from '@temporalio/proto';

/** The children a run started in each workflow task that started any, in order (its start waves). */
export function childStartWaves(events: temporal.api.history.v1.IHistoryEvent[]): number[] {
  const waves: number[] = [];
  let inTask = 0;
  for (const e of events) {
    if (e.workflowTaskCompletedEventAttributes) inTask = 0;
    if (!e.startChildWorkflowExecutionInitiatedEventAttributes) continue;
    if (inTask++ === 0) waves.push(0);
    waves[waves.length - 1]!++;
  }
  return waves;
}

/** All `total` children started, the first wave full, no workflow task starting more than `wave`. */
export function expectStartedInWaves(waves: number[], total: number, wave = 100): void {
  expect(waves.reduce((a, b) => a + b, 0)).toBe(total);
  expect(waves[0]).toBe(wave);
  expect(Math.max(...waves)).toBeLessThanOrEqual(wave);
}
