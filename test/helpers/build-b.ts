import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/**
 * Bundles test/fixtures/build-b (the workflows with a change a deploy carries) into a file of its
 * own, as a build B's CT_WORKFLOW_BUNDLE: its path.
 */
export async function bundleBuildB(): Promise<string> {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'ct-build-b-')), 'workflow-bundle.js');
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(__dirname, '..', 'fixtures', 'build-b', 'workflows.ts'),
    logger: silent,
  });
  writeFileSync(file, code);
  return file;
}
