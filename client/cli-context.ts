import type { Client } from '@temporalio/client';
import type { PipelineConfig } from '../config/pipeline-config';

/** What each group of `ct` commands gets from the entry point (client/cli.ts). */
export interface CliContext {
  globals: () => { config?: string; json?: boolean };
  withClient: <T>(config: PipelineConfig, environment: string, fn: (client: Client) => Promise<T>) => Promise<T>;
  print: (json: boolean, value: unknown, human: () => string) => void;
}
