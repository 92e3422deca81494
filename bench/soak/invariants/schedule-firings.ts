import type { World } from '../world';
import { verdict, type InvariantResult } from './result';

// Every schedule firing due in the window is accounted for: a workflow the schedule started for it
// (found by TemporalScheduledById, matched on its nominal TemporalScheduledStartTime), or one of
// the firings the schedule itself counts as skipped by its overlap policy. Which times were due is
// the server's own expansion of the spec (ListScheduleMatchingTimes: cron, calendar, time zone,
// daylight-saving changes), as the schedule stands at the check.

const MATCH_MS = 1_000;

export function scheduleFiringsAccountedFor(world: World): InvariantResult {
  const offenders = new Map<string, string>();
  let checked = 0;
  for (const s of world.schedules) {
    if (s.error) {
      offenders.set(s.scheduleId, `cannot be read: ${s.error}`);
      continue;
    }
    checked += s.due.length;
    const started = [...s.started].sort((a, b) => a.scheduledAt - b.scheduledAt);
    const used = new Set<number>();
    const unfired: number[] = [];
    for (const due of [...s.due].sort((a, b) => a - b)) {
      const i = started.findIndex((w, k) => !used.has(k) && Math.abs(w.scheduledAt - due) <= s.jitterMs + MATCH_MS);
      if (i >= 0) used.add(i);
      else unfired.push(due);
    }
    if (unfired.length <= s.skippedOverlap) continue;
    for (const due of unfired)
      offenders.set(
        `${s.scheduleId}@${new Date(due).toISOString()}`,
        `due, not fired, and the schedule counts only ${s.skippedOverlap} firing(s) skipped by its overlap policy (${s.overlap}) for ${unfired.length} unfired` +
          `${s.missedCatchupWindow ? `; ${s.missedCatchupWindow} missed the catch-up window` : ''}${s.paused ? '; it is paused now' : ''}`,
      );
  }
  return verdict(
    'schedule firings accounted for',
    'every firing due in the window fired, or was skipped by its overlap policy, visibly',
    checked,
    offenders,
  );
}
