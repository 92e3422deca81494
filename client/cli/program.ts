// `ct`'s commands, runnable in-process (client/cli/main.ts is the process entry; tests drive runCli).
// Each group of commands is a module of its own; this one wires them, prints what they return
// (once, the way --json says) and ends every failure in one handler that prints the reason and
// returns the exit code: 0 done, 1 refused, 2 usage.
import { Command, CommanderError } from 'commander';
import { InvalidEnvironment } from '../../config/env';
import { ConfigError } from '../../config/load-config';
import { TemporalUnreachable } from '../../infra/temporal/connect';
import { TrainingRequestError } from '../training';
import { registerAlertCommands } from './alerts';
import { registerConfigCommands } from './config';
import type { CliContext, CliIo, CommandResult } from './context';
import { registerCostCommands } from './cost';
import { registerDeployCommands } from './deploy';
import { registerFlagCommands } from './flags';
import { registerModelCommands } from './model';
import { registerPredictCommands } from './predict';
import { registerRunCommands } from './runs';
import { registerRolloutCommands } from './rollout';
import { registerScheduleCommands } from './schedules';
import { withClient } from './temporal-client';
import { registerTrainingCommands } from './training';

export type { CliIo } from './context';

const EXIT_USAGE = 2;

/** Runs `ct` with these arguments (as after `ct`); resolves to the exit code. */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('ct')
    .description('ct-coordinator: continuous training on Vertex AI, coordinated by Temporal')
    .option('--config <file>', 'pipeline config (default: CT_CONFIG or config/pipelines.yaml)')
    .option('--json', 'print machine-readable JSON')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.out(t.replace(/\n$/, '')), writeErr: (t) => io.err(t.replace(/\n$/, '')) });

  const globals = () => program.opts<{ config?: string; json?: boolean }>();
  const print = (result: CommandResult) => {
    io.out(globals().json ? JSON.stringify(result.value, null, 2) : result.human());
    if (result.exitCode) exitCode = result.exitCode;
    if (result.refusal) throw result.refusal;
  };
  const shows: CliContext['shows'] =
    (action) =>
    async (...a) =>
      print(await action(...a));
  const cli: CliContext = { globals, withClient, shows, io };

  // In the order `ct --help` lists them.
  registerTrainingCommands(program, cli);
  registerRunCommands(program, cli);
  registerCostCommands(program, cli);
  registerPredictCommands(program, cli);
  registerModelCommands(program, cli);
  registerRolloutCommands(program, cli);
  registerScheduleCommands(program, cli);
  registerFlagCommands(program, cli);
  registerAlertCommands(program, cli);
  registerDeployCommands(program, cli);
  registerConfigCommands(program, cli);

  try {
    await program.parseAsync(args, { from: 'user' });
    return exitCode;
  } catch (err: unknown) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
    const known =
      err instanceof TrainingRequestError ||
      err instanceof ConfigError ||
      err instanceof InvalidEnvironment ||
      err instanceof TemporalUnreachable;
    io.err(`ct: ${known ? err.message : `unexpected error: ${err instanceof Error ? err.message : String(err)}`}`);
    return 1;
  }
}
