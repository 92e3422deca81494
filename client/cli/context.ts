import type { Client } from '@temporalio/client';
import type { PipelineConfig } from '../../config/pipeline-config';

/** Where a run of `ct` writes (the process's stdout and stderr, or a test's buffers). */
export interface CliIo {
  out: (text: string) => void;
  /** Diagnostics: refusals and usage errors (ERROR), progress (INFO). */
  err: (text: string, level?: 'INFO' | 'ERROR') => void;
}

/** What a command returns to be printed: `value` as JSON under --json, else `human()`. */
export interface CommandResult {
  value: unknown;
  human: () => string;
  /** 1: the command was done but what it waited for ended badly (a prediction run that did not succeed). */
  exitCode?: number;
  /** Printed after the result: the command refuses what it found (exit 1). */
  refusal?: Error;
}

/** What each group of `ct` commands gets from the program (client/cli/program.ts). */
export interface CliContext {
  globals: () => { config?: string; json?: boolean };
  withClient: <T>(config: PipelineConfig, environment: string, fn: (client: Client) => Promise<T>) => Promise<T>;
  /** Wraps a command's action: the result it returns is printed, once, the way --json says. */
  shows: <A extends unknown[]>(
    action: (...args: A) => CommandResult | Promise<CommandResult>,
  ) => (...args: A) => Promise<void>;
  io: CliIo;
}
