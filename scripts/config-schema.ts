// Writes config/pipelines.schema.json from the zod schema, so editors validate pipelines.yaml
// with exactly the rules the worker applies. `npm run config:schema`; a test keeps it current.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PipelineConfig } from '../config/pipeline-config';

export function configJsonSchema(): string {
  return `${JSON.stringify({ ...z.toJSONSchema(PipelineConfig, { io: 'input', unrepresentable: 'any' }), title: 'ct-coordinator pipelines' }, null, 2)}\n`;
}

if (require.main === module) {
  const out = path.join(__dirname, '..', 'config', 'pipelines.schema.json');
  writeFileSync(out, configJsonSchema());
  console.log(`wrote ${out}`);
}
