// One invariant's verdict, as the checker reports it: what was looked at, and who broke it and why.

export interface InvariantResult {
  name: string;
  ok: boolean;
  /** How many things it looked at (partitions, jobs, runs, firings, manifests). */
  checked: number;
  /** The ids that break it: workflow ids, job names, manifest URIs, schedule@time. */
  offending: string[];
  /** One line: what it states, and the first offenders with the reason. */
  detail: string;
  /** Why each offender breaks it. */
  why: Record<string, string>;
}

/** The verdict from what was checked and the offenders (id → why). */
export function verdict(
  name: string,
  states: string,
  checked: number,
  offenders: Map<string, string>,
): InvariantResult {
  const offending = [...offenders.keys()].sort();
  const first = offending
    .slice(0, 3)
    .map((id) => `${id}: ${offenders.get(id)}`)
    .join('; ');
  return {
    name,
    ok: offending.length === 0,
    checked,
    offending,
    detail: offending.length
      ? `${offending.length} of ${checked} break it (${states}): ${first}${offending.length > 3 ? '; …' : ''}`
      : `${checked} checked: ${states}`,
    why: Object.fromEntries(offending.map((id) => [id, offenders.get(id)!])),
  };
}
