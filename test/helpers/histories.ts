import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { readToolPaths } from '../../scripts/stack/tools';
import { testStack } from '../setup/test-stack';

export const historiesDir = path.join(__dirname, '..', 'histories');

/**
 * Saves a finished run's history as test/histories/<name>.json when CT_SAVE_HISTORIES=1.
 * Committed histories are replayed against the current workflow code by test/replay.test.ts:
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

export function loadSavedHistories(): SavedHistory[] {
  return readdirSync(historiesDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const saved = JSON.parse(readFileSync(path.join(historiesDir, f), 'utf8')) as {
        workflowId?: string;
        history?: unknown;
        events?: unknown;
      };
      const name = path.basename(f, '.json');
      return saved.history
        ? { name, workflowId: saved.workflowId ?? name, history: historyFromJSON(saved.history) }
        : { name, workflowId: name, history: historyFromJSON(saved) };
    });
}
