import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config';
import { decideCandidate } from '../model';
import type { CliContext } from './context';

// `ct approve | reject`: a person's decision on a run's candidate model.

interface DecisionOptions {
  pipeline: string;
  env: string;
  partition: string;
  segment?: string;
  by?: string;
  reason?: string;
}

export function registerModelCommands(program: Command, { globals, withClient, shows }: CliContext): void {
  for (const decision of ['approve', 'reject'] as const) {
    program
      .command(decision)
      .description(
        decision === 'approve'
          ? "promote a run's candidate to champion (runs whose pipeline asks for approval)"
          : "refuse a run's candidate: champion stays where it is",
      )
      .requiredOption('--pipeline <name>', 'pipeline from the config')
      .requiredOption('--env <environment>', 'environment, e.g. production')
      .requiredOption('--partition <partition>', 'partition the run trained on, e.g. 2026-11-21')
      .option('--segment <segment>', 'country-sns segment, e.g. jp-instagram')
      .option('--by <who>', 'who decides (recorded in the run)', process.env.USER)
      .option('--reason <why>', decision === 'approve' ? 'why (optional)' : 'why (required)')
      .action(
        shows(async (o: DecisionOptions) => {
          const config = loadConfig(globals().config);
          const run = { pipeline: o.pipeline, environment: o.env, partition: o.partition, segment: o.segment };
          const ack = await withClient(config, o.env, (client) =>
            decideCandidate(client, config, run, decision, { by: o.by ?? '', reason: o.reason }),
          );
          return {
            value: ack,
            human: () =>
              `${ack.workflowId}: ${ack.modelVersion} ${ack.decision}${decision === 'approve' ? '; the run promotes it to champion and announces it' : ''}`,
          };
        }),
      );
  }
}
