import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config';
import { flagWatchReports, notifyFlag, objectOfNotification, type WatchReport } from '../flags';
import type { CliContext } from './context';

// `ct flags …`: what the flag watches of an environment report, and the push form of a flag
// (a Cloud Storage notification handed to its watch). docs/triggers.md is the page.

export function registerFlagCommands(program: Command, cli: CliContext): void {
  const flags = program
    .command('flags')
    .description('flag files as triggers: the watches of an environment, and Cloud Storage notifications for them');
  registerStatus(flags, cli);
  registerNotify(flags, cli);
}

function registerStatus(flags: Command, { globals, withClient, shows }: CliContext): void {
  flags
    .command('status')
    .description('each flag watch of the environment: what it lists, its counts and latest outcomes with their reasons')
    .requiredOption('--env <environment>', 'environment, e.g. production')
    .option('--recent <n>', 'latest outcomes to show per watch', '10')
    .action(
      shows(async (o: { env: string; recent: string }) => {
        const config = loadConfig(globals().config);
        const reports = await withClient(config, o.env, (client) => flagWatchReports(client, config, o.env));
        return { value: reports, human: () => formatReports(reports, Number(o.recent) || 10) };
      }),
    );
}

function registerNotify(flags: Command, { globals, withClient, shows }: CliContext): void {
  flags
    .command('notify')
    .description(
      "hand a Cloud Storage notification (OBJECT_FINALIZE, payload JSON; a Pub/Sub message carrying one) to its bucket's flag watch",
    )
    .requiredOption('--env <environment>', 'environment, e.g. production')
    .option('--file <path>', 'the notification (default: stdin)', '-')
    .action(
      shows(async (o: { env: string; file: string }) => {
        const config = loadConfig(globals().config);
        const object = objectOfNotification(readFileSync(o.file === '-' ? 0 : o.file, 'utf8'));
        const result = await withClient(config, o.env, (client) => notifyFlag(client, config, o.env, object));
        return {
          value: { ...result, object: `gs://${object.bucket}/${object.name}`, generation: object.generation },
          human: () =>
            result.sent
              ? `handed gs://${object.bucket}/${object.name} #${object.generation} to ${result.workflowId} (ct flags status --env ${o.env} shows what it became)`
              : `nothing to do: ${result.why}`,
        };
      }),
    );
}

function formatReports(reports: WatchReport[], recent: number): string {
  if (!reports.length) return 'no flag in the config for this environment';
  return reports
    .map((r) => {
      const lines = [`${r.workflowId}`, ...r.sources.map((s) => `  watches ${s}`)];
      const s = r.status;
      if (!s) return [...lines, '  not running: a worker serving this environment starts it'].join('\n');
      const l = s.listing;
      lines.push(
        `  since ${s.since}; last listing ${l ? `${l.at}: ${l.pages} page(s), ${l.objects} object(s)${l.errors ? `, ${l.errors} failed` : ''}` : 'not yet'}`,
        `  delivered ${s.counts.delivered} · rewritten ${s.counts.rewritten} · refused ${s.counts.refused} · partitions remembered ${s.delivered}`,
      );
      for (const e of s.recent.slice(0, recent))
        lines.push(
          `  ${e.at} ${e.outcome.padEnd(9)} ${e.object} #${e.generation}${e.dataset ? ` ${e.dataset} ${e.partition ?? ''}` : ''}${
            e.reason ? `\n      ${e.reason}` : e.runs ? ` → ${e.runs.join(', ') || 'no run'}` : ''
          }`,
        );
      return lines.join('\n');
    })
    .join('\n\n');
}
