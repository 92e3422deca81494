import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { historyFiles } from '../../client/deploy-check';
import { readToolPaths } from '../../stack/tools';
import { testStack } from '../setup/test-stack';

export const historiesDir = path.join(__dirname, '..', 'histories');

/**
 * Saves a finished run's history as test/histories/<name>.json when CT_SAVE_HISTORIES=1.
 * Committed histories are replayed against the current workflow code by test/workflows/replay.test.ts:
 * a change that would break runs in flight fails there (use patched() to make it safe).
 */
export async function maybeSaveHistory(handle: WorkflowHandle, name: string, runId?: string): Promise<void> {
  if (process.env.CT_SAVE_HISTORIES !== '1') return;
  // The Temporal CLI's JSON is the documented interchange format for replay (and what an
  // operator gets from `temporal workflow show --output json` on a production run).
  const env = testStack();
  await handle.result().catch(() => undefined);
  const json = execFileSync(readToolPaths().temporal, [
    'workflow',
    'show',
    '--address',
    env.CT_TEST_TEMPORAL_ADDRESS,
    '--namespace',
    env.CT_TEST_NAMESPACE,
    '--workflow-id',
    handle.workflowId,
    // One run of a continue-as-new chain (the latest when not given).
    ...(runId ? ['--run-id', runId] : []),
    '--output',
    'json',
  ]);
  mkdirSync(historiesDir, { recursive: true });
  // The workflow id is kept beside the events: workflow code may read it (workflowInfo), so a
  // replay under another id would take another path.
  const saved = { workflowId: handle.workflowId, history: JSON.parse(json.toString()) as unknown };
  writeFileSync(path.join(historiesDir, `${name}.json`), `${JSON.stringify(saved, null, 1)}\n`);
}

export interface SavedHistory {
  name: string;
  workflowId: string;
  history: temporal.api.history.v1.IHistory;
}

/** The committed histories, read as `ct deploy check --histories` reads them. */
export function loadSavedHistories(): SavedHistory[] {
  return historyFiles(historiesDir).map((h) => ({
    name: path.basename(h.source, '.json'),
    workflowId: h.workflowId,
    history: h.history,
  }));
}
