import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config';
import { environmentsOf } from '../../config/runs';
import { pricesOnce, type Prices } from '../../config/prices';
import { Duration } from '../../config/primitives';
import type { CliContext } from './context';
import { costReport, runCost, type CostReport, type RunCostReport } from '../cost';
import { costForecast, type CostForecast } from '../cost-forecast';
import { TrainingRequestError } from '../training';

// `ct cost`: what a run cost (Temporal actions from its history, a Vertex estimate from the price
// table; a prediction run with its segments), or closed runs over a time range summed by kind and pipeline.

export function registerCostCommands(program: Command, { globals, withClient, shows }: CliContext): void {
  program
    .command('cost')
    .description(
      'what runs cost: Temporal Cloud actions from their histories and a Vertex estimate (config/prices.yaml or CT_PRICES)',
    )
    .requiredOption('--env <environment>', 'environment')
    .option('--id <workflowId>', 'one run (closed or still running)')
    .option('--since <duration>', 'closed training and prediction runs in this window, e.g. 24h or 7d', '7d')
    .option('--pipeline <name>', 'only this pipeline')
    .option('--forecast', "the next 30 days: the schedules' firings × the mean cost of runs closed since --since")
    .action(
      shows(async (o: { env: string; id?: string; since: string; pipeline?: string; forecast?: boolean }) => {
        const config = loadConfig(globals().config);
        const environments = environmentsOf(config);
        if (!environments.includes(o.env))
          throw new TrainingRequestError(
            `--env: environment "${o.env}" is not in the config; it has: ${environments.join(', ')}`,
          );
        if (o.pipeline && !config.pipelines[o.pipeline])
          throw new TrainingRequestError(
            `--pipeline: pipeline "${o.pipeline}" is not in the config; it has: ${Object.keys(config.pipelines).sort().join(', ')}`,
          );
        const prices = pricesOnce();
        if (o.forecast && o.id)
          throw new TrainingRequestError('--forecast: a forecast is of schedules, not of one run (--id)');
        if (o.id) {
          const id = o.id;
          const c = await withClient(config, o.env, (client) => runCost(client, id, prices));
          return {
            value: c,
            human: () => formatRunCost(c, prices),
          };
        }
        const since = Duration.safeParse(o.since);
        if (!since.success) throw new TrainingRequestError(`--since: ${since.error.issues[0]!.message}`);
        if (o.forecast) {
          const f = await withClient(config, o.env, (client) =>
            costForecast(
              client,
              config,
              { environment: o.env, since: new Date(Date.now() - since.data), pipeline: o.pipeline },
              prices,
            ),
          );
          return {
            value: f,
            human: () => formatForecast(o.env, f),
          };
        }
        const r = await withClient(config, o.env, (client) =>
          costReport(
            client,
            { since: new Date(Date.now() - since.data), environment: o.env, pipeline: o.pipeline },
            prices,
          ),
        );
        return {
          value: r,
          human: () => formatCostReport(o.env, r),
        };
      }),
    );
}

function formatRunCost(c: RunCostReport, prices: Prices): string {
  return [
    `${c.workflowId}: $${c.totalUsd} (${prices.currency}, prices of ${prices.asOf})`,
    `  Temporal: ${c.actions.total} actions = $${c.temporalUsd} (${Object.entries(c.actions.byKind)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')})`,
    `  Vertex: $${c.vertex.usd}`,
    ...(c.children ? [`  Segments: ${c.children.runs} run(s), ${c.children.actions} actions, $${c.children.usd}`] : []),
    ...c.vertex.jobs.map(
      (j) =>
        `    ${j.kind} ${j.state} ${j.hours.toFixed(3)} h: ${j.usd === null ? 'not priced' : `$${j.usd}`} (${j.how})`,
    ),
  ].join('\n');
}

function formatForecast(env: string, f: CostForecast): string {
  return [
    `${env}, ${f.from.slice(0, 10)} to ${f.to.slice(0, 10)}: $${f.totalUsd} ${f.prices.currency} (prices of ${f.prices.asOf}; runs closed since ${f.since})`,
    ...f.schedules.map(
      (l) =>
        `  ${l.scheduleId}: ${l.paused ? 'paused, ' : ''}${l.firings} firing(s) × ${l.runsPerFiring} ${l.kind} run(s) × ${l.meanRunUsd === null ? 'no recent run to measure' : `$${l.meanRunUsd} (mean of ${l.basedOnRuns})`}${l.usd === null ? '' : ` = $${l.usd}`}`,
    ),
    ...f.serving.map(
      (l) =>
        `  serving ${l.pipeline}: ${l.endpoints} endpoint(s) × ${l.replicas} × ${l.machineType} ${l.perDayUsd === null ? '(no node-hour price)' : `$${l.perDayUsd} a day = $${l.usd}`}`,
    ),
  ].join('\n');
}

function formatCostReport(env: string, r: CostReport): string {
  return r.groups.length
    ? r.groups
        .map(
          (g) =>
            `${g.kind} ${g.pipeline} · ${g.environment}: ${g.runs} run(s), ${g.actions} actions, Temporal $${g.temporalUsd} + Vertex $${g.vertexUsd} = $${g.totalUsd} ($${g.meanUsd} a run)`,
        )
        .join('\n')
    : `no closed training or prediction runs in ${env} since ${r.since}`;
}
