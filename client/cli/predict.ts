import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config';
import { predictionProgressQuery } from '../../contracts';
import { startPredictionRun } from '../prediction';
import type { CliContext, CommandResult } from './context';

// `ct predict`: start (or attach to) a partition's batch prediction run, and with --wait follow it to its end.

interface PredictOptions {
  pipeline: string;
  env: string;
  partition: string;
  segment?: string[];
  retryFailed?: boolean;
  rerun?: boolean;
  wait?: boolean;
}

export function registerPredictCommands(program: Command, { globals, withClient, shows, io }: CliContext): void {
  program
    .command('predict')
    .description('start (or attach to) the batch prediction run of a partition: one Vertex job per segment')
    .requiredOption('--pipeline <name>', 'pipeline from the config')
    .requiredOption('--env <environment>', 'environment, e.g. staging')
    .requiredOption('--partition <partition>', 'partition, e.g. 2026-11-21')
    .option('--segment <segment...>', 'only these segments (country-sns), e.g. jp-instagram us-tiktok')
    .option('--retry-failed', "re-run only the segments that did not succeed in the partition's last run")
    .option('--rerun', 'run every segment of a partition that already ran, again')
    .option('--wait', 'wait for the run to end and print its summary')
    .action(
      shows(async (o: PredictOptions) => {
        const config = loadConfig(globals().config);
        const input = {
          pipeline: o.pipeline,
          environment: o.env,
          partition: o.partition,
          segments: o.segment,
          retryFailed: o.retryFailed,
        };
        return withClient(config, o.env, async (client): Promise<CommandResult> => {
          const handle = await startPredictionRun(client, config, input, { rerun: o.rerun });
          if (!o.wait)
            return {
              value: { workflowId: handle.workflowId },
              human: () => `prediction run ${handle.workflowId} started (or already running)`,
            };
          // Progress on stderr while it waits (stdout stays the result, for scripts).
          const tick = setInterval(() => {
            void handle
              .query(predictionProgressQuery)
              .then((p) =>
                io.err(
                  `${handle.workflowId}: ${p.succeeded + p.failed + p.reused}/${p.total} done · running ${p.running} · failed ${p.failed}`,
                  'INFO',
                ),
              )
              .catch(() => undefined);
          }, 5_000);
          if (!globals().json) io.err(`waiting for ${handle.workflowId} …`, 'INFO');
          const summary = await handle.result().finally(() => clearInterval(tick));
          return {
            value: summary,
            human: () =>
              [
                `${handle.workflowId}: ${summary.verdict} — ${summary.progress.succeeded} succeeded, ${summary.progress.failed} failed, ${summary.progress.reused} reused; summary at ${summary.summaryUri}`,
                ...summary.segments.filter((s) => s.outcome === 'failed').map((s) => `  ${s.segment}: ${s.error}`),
              ].join('\n'),
            exitCode: summary.verdict !== 'succeeded' ? 1 : undefined,
          };
        });
      }),
    );
}
