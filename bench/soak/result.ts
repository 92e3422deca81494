import type { Growth } from './growth';
import type { SeasonSize } from './season';

// The soak's result (result.json, and stdout) and the short summary a person reads on stderr.

interface Latency {
  n: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export interface SoakResult {
  soak: 'ci' | 'bench';
  /** Every invariant held, no run was left open after the drain, the deploy was done, and the stack stopped cleanly. */
  ok: boolean;
  season: SeasonSize & { seed: number; endDate: string };
  wall: { totalSeconds: number; stackUpSeconds: number; seasonSeconds: number; drainSeconds: number };
  runs: {
    executions: number;
    byType: Record<string, number>;
    byStatus: Record<string, number>;
    /** pipeline:outcome of every training run (succeeded, rejected, skipped, or how it closed). */
    trainingOutcomes: Record<string, number>;
    /** Runs still open when the drain gave up: each one a finding. */
    stuck: { workflowId: string; type: string; phase?: string }[];
  };
  jobs: { total: number; byKindAndState: Record<string, number> };
  /** Data-ready calls (one per dataset and partition sent), the run deliveries they made, and Airflow's retries of them. */
  dataReady: { sent: number; runsReached: number; late: number; duplicate: number; airflowRetries: number };
  operators: {
    cancels: Record<string, number>;
    missedCancels: string[];
    approvals: Record<string, number>;
    ctCalls: number;
    ctRefused: string[];
  };
  faults: Record<string, number>;
  /**
   * The mid-season blue-green deploy (bench/soak/deploy.ts): from the previous workflow code to this
   * build, the stack's steps and their times, and the runs whose workflow tasks ran on both builds
   * (one history per type kept, replayable as test/histories/ are).
   */
  deploy?: {
    from: { buildId: string; commit?: string; subject?: string };
    to: { buildId?: string };
    state: string;
    message: string;
    steps: Record<string, string>;
    seconds: { toCurrent: number | null; drain: number | null; total: number | null };
    runsAcross: Record<string, number>;
    histories: string[];
  };
  /** A season run on a deliberately broken build (--break): the invariants it must fail, and those that did. */
  broken?: { name: string; what: string; mustFail: string[]; failed: string[] };
  /** The checker's verdicts (checker.ts), as it gives them: each names the ids that break it. */
  invariants: { name: string; ok: boolean; offending: string[]; detail?: string }[];
  /** Whatever else the checker reports beside its verdicts (its own figures), passed through. */
  checker?: unknown;
  latency: { dataReadyToJobCreated: Latency; jobEndToNoticed: Latency };
  growth: {
    processes: Growth[];
    openRuns: { samples: number; peak: number; last: number | null; slopePerHour: number | null };
    history: { type: string; runs: number; eventsP50: number | null; eventsMax: number; bytesMax: number }[];
  };
  cost: {
    actions: number;
    actionsByKind: Record<string, number>;
    temporalUsd: number;
    vertexUsd: number;
    perSimulatedMonth: { actions: number; temporalUsd: number; vertexUsd: number };
    prices: { asOf: string; currency: string };
  };
  /** dataKept: the stack's data folder (PostgreSQL, logs, the emulator's state) is still at paths.dataDir. */
  stack: { stoppedCleanly: boolean; dataKept: boolean };
  /** What went wrong in the driver itself or around the product (not an invariant): worth reading. */
  problems: string[];
  paths: { ledger: string; result: string; stackLog: string; dataDir: string };
}

const s = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(1)}s`);

export function summary(r: SoakResult): string {
  const failed = r.invariants.filter((i) => !i.ok);
  const workers = r.growth.processes.filter((p) => p.service.startsWith('worker-'));
  const lines = [
    `soak (${r.soak}): ${r.ok ? 'OK' : 'FAILED'} — ${r.season.days} days × ${r.season.daySeconds}s, ` +
      `${r.season.countries} countries × ${r.season.sns} SNS × ${r.season.models} models, ${r.wall.totalSeconds}s wall ` +
      `(stack up ${r.wall.stackUpSeconds}s, season ${r.wall.seasonSeconds}s, drain ${r.wall.drainSeconds}s)`,
    `  runs ${r.runs.executions} (${Object.entries(r.runs.byType)
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ', ',
      )}); Vertex jobs ${r.jobs.total}; data-ready ${r.dataReady.sent} sent (${r.dataReady.late} late, ${r.dataReady.duplicate} duplicate run-deliveries)`,
    `  faults: ${Object.entries(r.faults)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `  operators: cancels ${JSON.stringify(r.operators.cancels)}, approvals ${JSON.stringify(r.operators.approvals)}`,
    ...(r.deploy
      ? [
          `  deploy: ${r.deploy.from.buildId} → ${r.deploy.to.buildId ?? '?'} ${r.deploy.state} ` +
            `(current after ${r.deploy.seconds.toCurrent ?? '—'}s, drained in ${r.deploy.seconds.drain ?? '—'}s); ` +
            `runs across it: ${JSON.stringify(r.deploy.runsAcross)}`,
        ]
      : []),
    ...(r.broken
      ? [
          `  broken build ${r.broken.name}: ${r.broken.mustFail.every((n) => r.broken!.failed.includes(n)) ? 'caught' : 'NOT caught'} ` +
            `(must fail: ${r.broken.mustFail.join(', ')})`,
        ]
      : []),
    `  invariants: ${r.invariants.length - failed.length}/${r.invariants.length} hold` +
      failed
        .map((i) => `\n    ✗ ${i.name}: ${i.offending.slice(0, 5).join(', ')}${i.offending.length > 5 ? ' …' : ''}`)
        .join(''),
    `  data-ready → job created p50 ${s(r.latency.dataReadyToJobCreated.p50Ms)} p99 ${s(r.latency.dataReadyToJobCreated.p99Ms)}; ` +
      `job end → noticed p50 ${s(r.latency.jobEndToNoticed.p50Ms)} p99 ${s(r.latency.jobEndToNoticed.p99Ms)}`,
    `  worker RSS slope (MB/h, within each life): ${workers.map((w) => `${w.service} ${w.slopeMbPerHour ?? '—'} (peak ${w.peakMb} MB, ${w.lives} lives)`).join(', ')}`,
    `  open runs: peak ${r.growth.openRuns.peak}, last ${r.growth.openRuns.last}; per simulated month: ${r.cost.perSimulatedMonth.actions} actions, ` +
      `$${r.cost.perSimulatedMonth.temporalUsd} Temporal, $${r.cost.perSimulatedMonth.vertexUsd} Vertex`,
    ...(r.runs.stuck.length
      ? [`  stuck: ${r.runs.stuck.map((x) => `${x.workflowId} (${x.phase ?? x.type})`).join(', ')}`]
      : []),
    ...(r.problems.length ? [`  problems (${r.problems.length}): see result.json`] : []),
    `  ${r.paths.result}`,
  ];
  return lines.join('\n');
}
