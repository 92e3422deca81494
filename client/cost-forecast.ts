import type { Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import type { PipelineConfig } from '../config/pipeline-config';
import type { Prices } from '../config/prices';
import { segmentsOf } from '../config/runs';
import { roundMicros, type ScheduledRunInput } from '../contracts';
import { costReport, type RunKind } from './cost';
import { listSchedules } from './schedules/operate';
import { servingCost, type ServingLine } from './serving-cost';

// `ct cost --forecast`: the next 30 days from the schedules the server holds (their own specs,
// expanded by the server into firing times, so cron, interval, calendar, time zones, start and end
// all count as the server will fire them) times the measured mean cost of recent closed runs of the
// same kind and pipeline (client/cost.ts). A paused schedule fires nothing until someone unpauses it.
// Runs that data-ready or operators start outside schedules are not forecast. Online serving is:
// its endpoints' deployed models for the whole window (client/serving-cost.ts).

const DAY_MS = 86_400_000;

export interface ForecastLine {
  scheduleId: string;
  pipeline: string;
  kind: RunKind;
  paused: boolean;
  /** Firings the server's spec gives in the window (0 while paused). */
  firings: number;
  /** A per-segment training pipeline's firing starts a run per segment. */
  runsPerFiring: number;
  /** Mean cost of the recent closed runs it is based on; null when there were none. */
  meanRunUsd: number | null;
  basedOnRuns: number;
  usd: number | null;
}

export interface CostForecast {
  environment: string;
  from: string;
  to: string;
  /** The recent runs' window. */
  since: string;
  schedules: ForecastLine[];
  /** Online serving: each serving pipeline's endpoints, deployed for the whole window. */
  serving: (ServingLine & { usd: number | null })[];
  /** Sum of the priced lines. */
  totalUsd: number;
  /** Schedules with no recent run to measure: not in the total. */
  unpriced: string[];
  prices: { asOf: string; currency: string };
}

export async function costForecast(
  client: Client,
  config: PipelineConfig,
  opts: { environment: string; since: Date; pipeline?: string; days?: number; now?: Date },
  prices: Prices,
): Promise<CostForecast> {
  const from = opts.now ?? new Date();
  const to = new Date(from.getTime() + (opts.days ?? 30) * DAY_MS);
  const report = await costReport(
    client,
    { since: opts.since, environment: opts.environment, pipeline: opts.pipeline },
    prices,
  );
  const lines: ForecastLine[] = [];
  for (const s of await listSchedules(client, opts.environment)) {
    if (!s.pipeline || (opts.pipeline && s.pipeline !== opts.pipeline)) continue;
    const d = await client.schedule.getHandle(s.id).describe();
    const args = (d.action as { args?: unknown[] }).args?.[0] as Partial<ScheduledRunInput> | undefined;
    const kind: RunKind = args?.action === 'prediction' ? 'prediction' : 'training';
    const matching = await client.workflowService.listScheduleMatchingTimes({
      namespace: client.options.namespace,
      scheduleId: s.id,
      startTime: msToTs(from.getTime()),
      endTime: msToTs(to.getTime()),
    });
    const pipeline = config.pipelines[s.pipeline];
    const runsPerFiring = kind === 'training' && pipeline ? Math.max(1, segmentsOf(pipeline).length) : 1;
    const measured = report.groups.find((g) => g.kind === kind && g.pipeline === s.pipeline);
    const firings = d.state.paused ? 0 : (matching.startTime?.length ?? 0);
    const meanRunUsd = measured ? measured.meanUsd : null;
    lines.push({
      scheduleId: s.id,
      pipeline: s.pipeline,
      kind,
      paused: d.state.paused,
      firings,
      runsPerFiring,
      meanRunUsd,
      basedOnRuns: measured?.runs ?? 0,
      usd: meanRunUsd === null ? null : roundMicros(firings * runsPerFiring * meanRunUsd),
    });
  }
  const days = (to.getTime() - from.getTime()) / DAY_MS;
  const serving = servingCost(config, opts.environment, prices, opts.pipeline).map((l) => ({
    ...l,
    usd: l.perDayUsd === null ? null : roundMicros(l.perDayUsd * days),
  }));
  return {
    environment: opts.environment,
    from: from.toISOString(),
    to: to.toISOString(),
    since: opts.since.toISOString(),
    schedules: lines,
    serving,
    totalUsd: roundMicros([...lines, ...serving].reduce((sum, l) => sum + (l.usd ?? 0), 0)),
    unpriced: [
      ...lines.filter((l) => l.usd === null && l.firings > 0).map((l) => l.scheduleId),
      ...serving.filter((l) => l.usd === null).map((l) => `serving ${l.pipeline} (${l.machineType})`),
    ],
    prices: report.prices,
  };
}
