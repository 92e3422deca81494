import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config';
import type { CliContext } from './context';

// `ct validate`: check a pipeline config file without reaching Temporal.

export function registerConfigCommands(program: Command, { globals, shows }: CliContext): void {
  program
    .command('validate')
    .description('check a pipeline config file')
    .argument('[file]', 'config file (default: the --config one)')
    .action(
      shows((file?: string) => {
        const config = loadConfig(file ?? globals().config);
        return {
          value: { ok: true, pipelines: Object.keys(config.pipelines) },
          human: () => `ok: ${Object.keys(config.pipelines).join(', ')}`,
        };
      }),
    );
}
