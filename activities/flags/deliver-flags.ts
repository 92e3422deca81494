import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { PipelineConfig } from '../../config/pipeline-config';
import { InvalidRunError } from '../../config/runs';
import type { DeliverFlagsRequest, FlagEvent } from '../../contracts';
import { metrics as m } from '../../observability/metrics';
import { deliverDataReady } from '../../starts/data-ready';

// What the watch found becomes what a DAG would have sent: the same data-ready, through the same
// path (starts/data-ready.ts: update-with-start of every run that waits for the dataset). Every
// outcome, delivered or not, is logged and counted here, once per flag, whatever decided it.

/** Deliveries in flight at once: a backfill's hundreds of flags do not open hundreds of updates together. */
const CONCURRENCY = 16;

export function createDeliverFlagsActivity(deps: { config: PipelineConfig; temporal: Client }) {
  return async function deliverFlags(req: DeliverFlagsRequest): Promise<FlagEvent[]> {
    const ctx = Context.current();
    const events = ctx.metricMeter.createCounter(m.flagEvents.name, undefined, m.flagEvents.help);
    const lag = ctx.metricMeter.createHistogram(m.flagLag.name, 'float', 's', m.flagLag.help);
    const delivered: FlagEvent[] = [];
    const queue = [...req.deliver];
    await Promise.all(
      Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
        for (let flag = queue.shift(); flag; flag = queue.shift()) {
          const uri = `gs://${req.bucket}/${flag.object}`;
          const base = { ...flag, at: '' };
          try {
            const report = await deliverDataReady(
              deps.temporal,
              deps.config,
              {
                environment: req.environment,
                dataset: flag.dataset,
                partition: flag.partition,
                uri,
                source: `gcs-flag generation ${flag.generation}`,
              },
              // The generation is the key: a delivery repeated (a retried activity) is applied once per run.
              { taskQueue: ctx.info.taskQueue, updateId: `gcs-flag:${digest(`${uri}#${flag.generation}`)}` },
            );
            delivered.push({
              ...base,
              outcome: 'delivered',
              at: new Date().toISOString(),
              runs: report.reached.map((r) => r.workflowId),
              alreadyReady: report.reached.filter((r) => !r.accepted).map((r) => r.workflowId),
              finished: report.finished.map((r) => r.workflowId),
            });
          } catch (err) {
            // The config's own refusal (a dataset no run waits for) is the reason a DAG would get; a
            // run's refusal (its validator or handler) too. Anything else is retried.
            const reason =
              err instanceof InvalidRunError
                ? err.message
                : err instanceof WorkflowUpdateFailedError
                  ? `a run refused it: ${err.cause?.message ?? err.message}`
                  : undefined;
            if (reason === undefined) throw err;
            delivered.push({ ...base, outcome: 'refused', at: new Date().toISOString(), reason });
          }
        }
      }),
    );
    const all = [...req.report, ...delivered];
    for (const e of all) {
      const reason = e.outcome === 'refused' ? reasonKind(e.reason ?? '') : '';
      events.add(1, { environment: req.environment, outcome: e.outcome, reason });
      const fields = {
        environment: req.environment,
        flag: `gs://${req.bucket}/${e.object}`,
        generation: e.generation,
        dataset: e.dataset,
        partition: e.partition,
      };
      if (e.outcome === 'delivered') {
        const seconds = (Date.parse(e.at) - Date.parse(e.writtenAt)) / 1000;
        lag.record(Math.max(0, seconds), { environment: req.environment });
        ctx.log.info('flag delivered as data-ready', {
          ...fields,
          runs: e.runs,
          finished: e.finished,
          lagSeconds: seconds,
        });
      } else if (e.outcome === 'rewritten')
        ctx.log.warn('flag rewritten for a partition already delivered: reported, not delivered again', {
          ...fields,
          deliveredGeneration: e.delivered?.generation,
          deliveredAt: e.delivered?.at,
        });
      else ctx.log.warn('flag refused', { ...fields, reason: e.reason });
    }
    return delivered;
  };
}

const digest = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);

/** The refusal's kind, a bounded label (the reason itself is in the log and the watch's status). */
function reasonKind(reason: string): string {
  if (reason.startsWith('outside the window')) return 'window';
  if (reason.startsWith('not parseable')) return 'unparseable';
  if (reason.startsWith('could not deliver')) return 'failed';
  if (reason.startsWith('a run refused it')) return 'run-refused';
  return 'unknown-dataset';
}
