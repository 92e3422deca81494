import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config';
import { approveRolloutStep, cancelRollout, rolloutStatus, startRolloutRequest } from '../rollout';
import type { CliContext } from './context';

// `ct rollout start | status | approve | cancel`: a model version to its Vertex Endpoint by canary steps.

interface TargetOptions {
  pipeline: string;
  env: string;
  segment?: string;
}

const target = (o: TargetOptions) => ({ pipeline: o.pipeline, environment: o.env, segment: o.segment });

function withTarget(cmd: Command): Command {
  return cmd
    .requiredOption('--pipeline <name>', 'pipeline from the config')
    .requiredOption('--env <environment>', 'environment, e.g. production')
    .option('--segment <segment>', 'segment (country-sns), for a pipeline with a model per segment');
}

export function registerRolloutCommands(program: Command, { globals, withClient, shows }: CliContext): void {
  const rollout = program.command('rollout').description("roll a model version out to the pipeline's Vertex Endpoint");

  withTarget(
    rollout
      .command('start')
      .description('start the rollout of a registered version (a newer one supersedes a rollout in flight)'),
  )
    .requiredOption('--version <id>', 'the Model Registry version, e.g. 3')
    .option('--by <who>', 'who starts it', 'operator')
    .action(
      shows(async (o: TargetOptions & { version: string; by: string }) => {
        const config = loadConfig(globals().config);
        return withClient(config, o.env, async (client) => {
          const { workflowId } = await startRolloutRequest(client, config, {
            ...target(o),
            version: o.version,
            startedBy: o.by,
          });
          return {
            value: { workflowId },
            human: () => `rollout ${workflowId}: version ${o.version} started (or signalled)`,
          };
        });
      }),
    );

  withTarget(rollout.command('status').description('where the rollout is: phase, split, health')).action(
    shows(async (o: TargetOptions) => {
      const config = loadConfig(globals().config);
      return withClient(config, o.env, async (client) => {
        const s = await rolloutStatus(client, target(o));
        return {
          value: s,
          human: () =>
            [
              `${s.workflowId}: ${s.phase}${s.step ? ` (step ${s.step.percent} %)` : ''} · version ${s.version}`,
              `split ${JSON.stringify(s.split)}${s.candidateDeployedModelId ? ` · candidate ${s.candidateDeployedModelId}` : ''}`,
              ...(s.reason ? [s.reason] : []),
            ].join('\n'),
        };
      });
    }),
  );

  withTarget(rollout.command('approve').description('let the rollout take its next step'))
    .requiredOption('--by <who>', 'who approves')
    .option('--reason <why>', 'why (optional)')
    .action(
      shows(async (o: TargetOptions & { by: string; reason?: string }) => {
        const config = loadConfig(globals().config);
        return withClient(config, o.env, async (client) => {
          const ack = await approveRolloutStep(client, target(o), { by: o.by, reason: o.reason });
          return { value: ack, human: () => `step ${ack.percent} % approved` };
        });
      }),
    );

  withTarget(rollout.command('cancel').description('roll back: restore the split from before the rollout')).action(
    shows(async (o: TargetOptions) => {
      const config = loadConfig(globals().config);
      return withClient(config, o.env, async (client) => {
        const { workflowId } = await cancelRollout(client, target(o));
        return { value: { workflowId }, human: () => `${workflowId}: cancel requested; it rolls back` };
      });
    }),
  );
}
