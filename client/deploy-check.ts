import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import {
  flagWatchWorkflowType,
  modelRolloutWorkflowType,
  predictionRunWorkflowType,
  predictionSegmentWorkflowType,
  routeDataReadyWorkflowType,
  scheduledRunWorkflowType,
  stackCheckWorkflowType,
  trainingFanoutWorkflowType,
  trainingRunWorkflowType,
  waitForModelWorkflowType,
} from '../contracts';
import { bundleOptions } from '../workers/bundle';

// `ct deploy check`: before a new build takes work, replay what the namespace's workers are
// running (and ran lately) against the new workflow bundle. Runs last hours and wait days for an
// approval; a change that takes another path on replay (nondeterminism) would fail their next
// workflow task, so it must be caught here, with the workflow ids, not in production.

/**
 * Every workflow type the worker registers (test/deploys/deploy-check.test.ts keeps it equal to
 * workflows/index.ts).
 */
export const workflowTypes = [
  trainingRunWorkflowType,
  routeDataReadyWorkflowType,
  trainingFanoutWorkflowType,
  waitForModelWorkflowType,
  predictionRunWorkflowType,
  predictionSegmentWorkflowType,
  scheduledRunWorkflowType,
  stackCheckWorkflowType,
  modelRolloutWorkflowType,
  flagWatchWorkflowType,
] as const;

export interface ReplayTarget {
  workflowId: string;
  /** Where the history came from: `run <runId>` of a live execution, or a file. */
  source: string;
  workflowType: string;
  history: temporal.api.history.v1.IHistory;
}

export interface DeployCheckReport {
  replayed: number;
  byType: Record<string, number>;
  failures: { workflowId: string; source: string; workflowType: string; error: string }[];
}

/**
 * The namespace's executions worth replaying: for each workflow type, its running executions and
 * those closed since `since`, newest first, at most `perType` (a continue-as-new chain is one
 * execution per run; each run replays on its own).
 */
export async function namespaceHistories(
  client: Client,
  opts: { since: Date; perType: number; /** ANDed to the list query (e.g. TaskQueue = 'prod'). */ filter?: string },
): Promise<ReplayTarget[]> {
  const out: ReplayTarget[] = [];
  for (const type of workflowTypes) {
    const query = `WorkflowType = '${type}' AND (ExecutionStatus = 'Running' OR CloseTime > '${opts.since.toISOString()}')${opts.filter ? ` AND (${opts.filter})` : ''}`;
    const picked: { workflowId: string; runId: string }[] = [];
    for await (const w of client.workflow.list({ query, pageSize: Math.min(opts.perType, 1000) })) {
      picked.push({ workflowId: w.workflowId, runId: w.runId });
      if (picked.length >= opts.perType) break;
    }
    for (const w of picked) {
      const history = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
      out.push({ workflowId: w.workflowId, source: `run ${w.runId}`, workflowType: type, history });
    }
  }
  return out;
}

/** Histories saved as JSON (`temporal workflow show --output json`, optionally wrapped as { workflowId, history }). */
export function historyFiles(dir: string): ReplayTarget[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const saved = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { workflowId?: string; history?: unknown };
      const history = historyFromJSON(saved.history ?? saved);
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      const name = path.basename(f, '.json');
      return {
        workflowId: saved.workflowId ?? name,
        source: path.join(dir, f),
        workflowType: started?.workflowType?.name ?? 'unknown',
        history,
      };
    });
}

/** The bundle a deploy would run: a prebuilt one (`npm run build` writes dist/workflow-bundle.js), or built from source. */
export async function loadBundle(codePath?: string): Promise<{ codePath: string } | WorkflowBundleWithSourceMap> {
  if (codePath) return { codePath };
  return bundleWorkflowCode({
    ...bundleOptions,
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
}

export async function replayAll(
  targets: ReplayTarget[],
  workflowBundle: { codePath: string } | WorkflowBundleWithSourceMap,
): Promise<DeployCheckReport> {
  const report: DeployCheckReport = { replayed: 0, byType: {}, failures: [] };
  // The workflow id rides with each history: workflow code may read it, so it must be the original.
  const results = Worker.runReplayHistories(
    { workflowBundle, replayName: 'ct-deploy-check' },
    targets.map((t) => ({ workflowId: t.workflowId, history: t.history })),
  );
  // Replayed one at a time, in order.
  let i = 0;
  for await (const r of results) {
    const t = targets[i++]!;
    report.replayed++;
    report.byType[t.workflowType] = (report.byType[t.workflowType] ?? 0) + 1;
    if (r.error)
      report.failures.push({
        workflowId: r.workflowId,
        source: t.source,
        workflowType: t.workflowType,
        error: r.error.message,
      });
  }
  return report;
}
