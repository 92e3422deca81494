// The server's partitions for the create queues (stack/dynamic-config.ts): each create queue named by
// the config gets one read and one write partition, and a database made with four keeps them.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { dynamicConfigWith, onePartitionFor } from '../../stack/dynamic-config';
import { baseDynamicConfig } from '../../stack/temporal-cluster';
import { createQueueNamesOf, createQueuesOf } from '../../config/create-queues';
import { customJobTraining, dailyData, projectWith } from '../helpers/pipelines';

const iso = projectWith(
  {
    churn: {
      data: dailyData(['events']),
      training: customJobTraining,
      environments: { staging: {}, production: { region: 'europe-west4' } },
    },
    engagement: { data: dailyData(['events']), training: customJobTraining },
  },
  'staging',
);
afterAll(() => iso.cleanup());

test('every project and region of the config has one create queue, each at the whole budget', () => {
  const names = createQueueNamesOf(iso.config, 'ct');
  expect(names.sort()).toEqual([
    `ct/vertex-creates/${iso.project}/europe-west4`,
    `ct/vertex-creates/${iso.project}/us-central1`,
  ]);
  expect(createQueuesOf(iso.config, 'ct', 54).map((q) => q.perMinute)).toEqual([54, 54]);
});

test("the cluster's dynamic config gives each create queue one read and one write partition and keeps the base file's keys", () => {
  const names = createQueueNamesOf(iso.config, 'ct');
  const doc = parse(dynamicConfigWith(baseDynamicConfig, names)) as Record<string, unknown>;
  expect(doc['system.forceSearchAttributesCacheRefreshOnRead']).toBeDefined();
  for (const key of ['matching.numTaskqueueReadPartitions', 'matching.numTaskqueueWritePartitions']) {
    expect(doc[key]).toEqual(names.map((taskQueueName) => ({ value: 1, constraints: { taskQueueName } })));
  }
});

test('a new database gets one partition per queue and remembers it; one made without keeps its partitions', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-partitions-'));
  const fresh = path.join(dir, 'fresh.sqlite');
  expect(onePartitionFor(fresh)).toBe(true);
  writeFileSync(fresh, '');
  expect(onePartitionFor(fresh)).toBe(true);
  expect(existsSync(`${fresh}.one-partition`)).toBe(true);
  const older = path.join(dir, 'older.sqlite');
  writeFileSync(older, '');
  expect(onePartitionFor(older)).toBe(false);
  expect(onePartitionFor(undefined)).toBe(true);
  // A database folder made ahead of its data (stack:prod makes PostgreSQL's before initdb) is new.
  const folder = mkdtempSync(path.join(dir, 'postgres-'));
  expect(onePartitionFor(folder, false)).toBe(true);
  expect(onePartitionFor(folder, true)).toBe(true);
});
