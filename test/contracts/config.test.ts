// The pipeline config: the shipped example parses, errors point at the file, line and path, and
// the JSON Schema editors use is the one the zod schema makes.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultConfigPath, loadConfig, parseConfig } from '../../config/load-config';
import { segmentsOf } from '../../config/runs';
import { configJsonSchema } from '../../scripts/config-schema';

test('the example config parses: per-country × SNS PipelineJob and a CustomJob, staging and production', () => {
  const config = loadConfig(defaultConfigPath);
  const engagement = config.pipelines['sns-engagement']!;
  expect(Object.keys(engagement.environments)).toEqual(['staging', 'production']);
  expect(engagement.training.kind).toBe('pipelineJob');
  expect(segmentsOf(engagement)).toHaveLength(4 * 3 - 1); // DE × tiktok excluded
  expect(engagement.data.timeout).toBe(36 * 3_600_000);
  expect(config.pipelines['creator-churn']!.training.kind).toBe('customJob');
});

test('errors name the file, the line, the path inside it and the problem', () => {
  const text = [
    'version: 1',
    'pipelines:',
    '  p:',
    '    environments:',
    '      staging:',
    '        project: X',
    '    data: { datasets: [a], timeout: soon }',
    '    training: { kind: batch }',
  ].join('\n');
  expect(() => parseConfig(text, 'pipelines.yaml')).toThrow(/^pipelines\.yaml: invalid pipeline config/);
  try {
    parseConfig(text, 'pipelines.yaml');
  } catch (err) {
    const message = (err as Error).message;
    expect(message).toMatch(/line 6:18: pipelines\.p\.environments\.staging\.project: must be a GCP project id/);
    expect(message).toMatch(/pipelines\.p\.environments\.staging\.region: /);
    expect(message).toMatch(/line 7:\d+: pipelines\.p\.data\.timeout: must be a duration like 90s/);
    expect(message).toMatch(/pipelines\.p\.training\.kind: /);
  }
  expect(() => parseConfig('version: 1\npipelines: [oops', 'x.yaml')).toThrow(
    /^x\.yaml: invalid pipeline config\n\s+line 2:/,
  );
});

test('the committed JSON Schema is the one the zod schema makes (run npm run config:schema)', () => {
  const committed = readFileSync(path.join(__dirname, '..', '..', 'config', 'pipelines.schema.json'), 'utf8');
  expect(committed).toBe(configJsonSchema());
});
