import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';

// The server's task-queue rate limit is split evenly over a queue's read partitions (4 by default),
// each pacing only the tasks written to it: a burst of creates, spread over 4 partitions at random,
// takes as long as its fullest partition needs (bench:scale: 2,000 creates 5–8 % over the quota's
// time). A create queue carries at most Vertex's creates (~1 a second), far below what one partition
// dispatches, so each gets one read and one write partition: exact pacing, and every poller waits on
// the one partition a task lands in. The server takes partitions per task queue name only, so the
// names come from the config (config/create-queues.ts). On a running cluster, lower the write
// partitions first and the read partitions once the others' backlog is empty (docs/vertex-quota.md).

/**
 * Whether the task queues of this database (a file or folder; none: in memory) get one partition: a
 * new one does, remembered beside it; one made with four keeps them, since tasks in a backlog on
 * the other three would never be read again. `made`: whether the database already holds data.
 */
export function onePartitionFor(
  database: string | undefined,
  made = database !== undefined && existsSync(database),
): boolean {
  if (!database) return true;
  const marker = `${database}.one-partition`;
  if (made && !existsSync(marker)) return false;
  writeFileSync(marker, 'task queues here have one partition (stack/dynamic-config.ts)\n');
  return true;
}

/** What the dev server takes (`--dynamic-config-value`, no constraints): one partition for every queue. */
export const devServerPartitionArgs = [
  '--dynamic-config-value',
  'matching.numTaskqueueReadPartitions=1',
  '--dynamic-config-value',
  'matching.numTaskqueueWritePartitions=1',
];

/** deploy/temporal/dynamicconfig.yaml with one partition for each of these create queues. */
export function dynamicConfigWith(base: string, createQueues: string[]): string {
  // The server matches a task queue's value by exact constraint sets, {namespace, name, type},
  // {namespace, name}, {name}, {namespace}, {} in that order: the name alone matches any namespace.
  const onePartition = createQueues.map((taskQueueName) => ({ value: 1, constraints: { taskQueueName } }));
  const keys = {
    'matching.numTaskqueueReadPartitions': onePartition,
    'matching.numTaskqueueWritePartitions': onePartition,
  };
  return `${readFileSync(base, 'utf8')}\n# The create queues (stack/dynamic-config.ts): one partition each.\n${stringify(keys, { aliasDuplicateObjects: false })}`;
}

/** Writes the cluster's dynamic config into `dir` and returns its path (DYNAMIC_CONFIG_FILE_PATH). */
export function writeDynamicConfig(base: string, dir: string, createQueues: string[]): string {
  const file = path.join(dir, 'dynamicconfig.yaml');
  writeFileSync(file, dynamicConfigWith(base, createQueues));
  return file;
}
