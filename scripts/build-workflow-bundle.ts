// Builds the workflow bundle once (at image build time), so production workers start without
// webpack: run with CT_WORKFLOW_BUNDLE=dist/workflow-bundle.js.   npm run build:workflows
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { bundleOptions } from '../workers/bundle';

async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode(bundleOptions);
  const out = path.join(__dirname, '..', 'dist', 'workflow-bundle.js');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, code);
  console.log(`wrote ${out}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
