import { randomInt } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../config/load-config';
import { emulatorControl } from './vertex';

// What keeps parallel tests apart on the shared servers. Workflow ids and task queues are unique
// per test; emulator rules, faults, jobs and models are scoped by Vertex project, so each test that
// scripts Vertex or reads what it did gets a project of its own and removes its rules after.

/** A partition no other test is likely to use, in the pipeline's own format (a real calendar value). */
export function uniquePartition(format: 'daily' | 'monthly' | 'hourly' = 'daily'): string {
  // Every four-digit year from 2030: runs are named by pipeline, environment and partition alone,
  // so two suites' runs of one pipeline meet when their partitions do (a monthly one is 1 in 95,640).
  const year = 2030 + randomInt(0, 7970);
  const month = String(randomInt(1, 13)).padStart(2, '0');
  if (format === 'monthly') return `${year}-${month}`;
  const day = `${year}-${month}-${String(randomInt(1, 29)).padStart(2, '0')}`;
  return format === 'daily' ? day : `${day}T${String(randomInt(0, 24)).padStart(2, '0')}`;
}

export interface IsolatedProject {
  /** The Vertex project every environment of the test's config uses. */
  project: string;
  /** The test's config, every environment in that project. */
  config: ReturnType<typeof parseConfig>;
  /** The same config as a file, for worker processes and the CLI (CT_CONFIG). */
  configPath: string;
  /** Removes the project's rules and faults from the emulator. */
  cleanup: () => Promise<void>;
}

/** A config (`text`, YAML or JSON) whose environments are all in `project`, as a file and parsed. */
export function projectConfig(project: string, text: string): IsolatedProject {
  const configPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'ct-project-')), 'pipelines.yaml');
  writeFileSync(configPath, text);
  const control = emulatorControl();
  return {
    project,
    config: parseConfig(text, configPath),
    configPath,
    cleanup: async () => {
      await control.clearRules(project);
      await control.clearFaults(project);
    },
  };
}
