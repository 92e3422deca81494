import type { Client } from '@temporalio/client';
import type { MetricMeter, MetricTags } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { searchAttributes as sa } from '../contracts/search-attributes';
import { metrics as m } from './metrics';

// Gauges of what is open right now, read from Temporal's visibility store (the source of truth every
// worker shares), not counted up and down in one worker's memory, which a restart or a run moving to
// another worker would corrupt. Each refresh is one paginated list of open runs and one list of
// schedules; when a run is first seen in a phase, its history is read once (not billable) to learn
// when it entered that phase and, for an approval, the timer's timeout. Every worker that runs this
// exports the same values: aggregate with max(), not sum().

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

interface PhaseEntry {
  since: number;
  /** The approval's timeout (the first timer after the phase began). */
  timeoutMs?: number;
}

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number | undefined =>
  t?.seconds == null ? undefined : Number(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6;

function decodeKeyword(p: temporal.api.common.v1.IPayload | undefined | null): string | undefined {
  if (!p?.data) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(p.data).toString('utf8'));
    return typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined;
  } catch {
    return undefined;
  }
}

/** When the run last entered `phase`, and the first timer it started after that. */
export function phaseEntry(events: HistoryEvent[], phase: string): PhaseEntry | undefined {
  let current: string | undefined;
  let entry: PhaseEntry | undefined;
  for (const e of events) {
    const fields =
      e.workflowExecutionStartedEventAttributes?.searchAttributes?.indexedFields ??
      e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
    const value = fields ? decodeKeyword(fields[sa.runPhase.name]) : undefined;
    if (value !== undefined && value !== current) {
      current = value;
      entry = value === phase ? { since: ms(e.eventTime) ?? Date.now() } : undefined;
    } else if (entry && entry.timeoutMs === undefined && e.timerStartedEventAttributes) {
      entry.timeoutMs = ms(e.timerStartedEventAttributes.startToFireTimeout);
    }
  }
  return entry;
}

const pausedByServer = /^paused(,| due to) workflow/;

export interface RunGauges {
  refresh(): Promise<void>;
  stop(): void;
}

/** Refreshes the gauges every `intervalMs` until stopped; a failed refresh is counted and retried next time. */
export function startRunGauges(opts: {
  client: Client;
  meter: MetricMeter;
  intervalMs: number;
  onError?: (err: unknown) => void;
}): RunGauges {
  const { client, meter } = opts;
  const gauge = (d: { name: string; help: string }) => meter.createGauge(d.name, 'float', undefined, d.help);
  const inPhase = gauge(m.runsInPhase);
  const oldest = gauge(m.phaseOldest);
  const waiting = gauge(m.approvalsWaiting);
  const ratio = gauge(m.approvalOldestRatio);
  const paused = gauge(m.schedulesPaused);
  const errors = meter.createCounter(m.gaugeRefreshErrors.name, undefined, m.gaugeRefreshErrors.help);
  const entries = new Map<string, PhaseEntry | undefined>();
  // Label sets set before: set to 0 when nothing matches any more, or the gauge would keep its last value.
  const seen = new Map<string, { g: typeof inPhase; tags: MetricTags }>();

  const refresh = async () => {
    const now = Date.now();
    const values = new Map<string, { g: typeof inPhase; tags: MetricTags; value: number }>();
    const put = (g: typeof inPhase, tags: MetricTags, value: number, combine: (a: number, b: number) => number) => {
      const key = `${g.name}${JSON.stringify(tags)}`;
      const prev = values.get(key);
      values.set(key, { g, tags, value: prev ? combine(prev.value, value) : value });
    };
    const live = new Set<string>();
    for await (const wf of client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
      const phase = wf.searchAttributes[sa.runPhase.name]?.[0];
      if (typeof phase !== 'string') continue;
      const key = `${wf.runId}/${phase}`;
      live.add(key);
      if (!entries.has(key)) {
        const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
        entries.set(key, phaseEntry(history.events ?? [], phase));
      }
      const entry = entries.get(key);
      const age = entry ? (now - entry.since) / 1000 : 0;
      const tags = { workflow_type: wf.type, phase };
      put(inPhase, tags, 1, (a, b) => a + b);
      put(oldest, tags, age, Math.max);
      if (phase === 'awaiting-approval') {
        const run = {
          pipeline: String(wf.searchAttributes[sa.pipeline.name]?.[0] ?? 'none'),
          environment: String(wf.searchAttributes[sa.environment.name]?.[0] ?? 'none'),
        };
        put(waiting, run, 1, (a, b) => a + b);
        if (entry?.timeoutMs) put(ratio, run, (now - entry.since) / entry.timeoutMs, Math.max);
      }
    }
    for (const key of entries.keys()) if (!live.has(key)) entries.delete(key);
    // Both reasons always exist as series, so an alert on them has something to read at 0.
    put(paused, { reason: 'failure' }, 0, (a, b) => a + b);
    put(paused, { reason: 'operator' }, 0, (a, b) => a + b);
    for await (const s of client.schedule.list()) {
      if (!s.scheduleId.startsWith('ct:') || !s.state.paused) continue;
      put(paused, { reason: pausedByServer.test(s.state.note ?? '') ? 'failure' : 'operator' }, 1, (a, b) => a + b);
    }
    for (const [key, v] of seen) if (!values.has(key)) v.g.set(0, v.tags);
    for (const [key, v] of values) {
      v.g.set(v.value, v.tags);
      seen.set(key, v);
    }
  };

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const loop = async () => {
    try {
      await refresh();
    } catch (err) {
      errors.add(1);
      opts.onError?.(err);
    }
    if (!stopped) timer = setTimeout(() => void loop(), opts.intervalMs);
  };
  void loop();
  return {
    refresh,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
