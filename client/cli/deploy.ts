import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config';
import { Duration } from '../../config/primitives';
import type { CliContext } from './context';
import { historyFiles, loadBundle, namespaceHistories, replayAll, type ReplayTarget } from '../deploy-check';
import { TrainingRequestError } from '../training';

// `ct deploy check`: the pre-deploy replay (client/deploy-check.ts) as a command, for CI and for
// the rollout procedure in docs/production.md ("Safe deploys while runs are in flight").

export function registerDeployCommands(program: Command, { globals, withClient, shows }: CliContext): void {
  program
    .command('deploy')
    .description('checks before a new worker build takes work')
    .command('check')
    .description(
      "replay the namespace's running and recent runs (and saved histories) against a workflow bundle; fails on any nondeterminism, naming the runs",
    )
    .option('--env <environment>', "replay the runs in this environment's namespace")
    .option('--histories <dir...>', 'also replay the JSON histories in these folders (e.g. test/histories)')
    .option(
      '--bundle <file>',
      'the workflow bundle to check (npm run build writes dist/workflow-bundle.js); default: built from source',
    )
    .option('--since <duration>', 'closed runs this recent are replayed too', '7d')
    .option('--per-type <n>', 'at most this many runs per workflow type', '50')
    .option('--query <filter>', 'only runs matching this visibility filter too, e.g. "TaskQueue = \'ct-production\'"')
    .action(
      shows(
        async (o: {
          env?: string;
          histories?: string[];
          bundle?: string;
          since: string;
          perType: string;
          query?: string;
        }) => {
          if (!o.env && !o.histories?.length)
            throw new TrainingRequestError('give --env (a namespace to read) or --histories');
          const since = Duration.safeParse(o.since);
          if (!since.success)
            throw new TrainingRequestError(`--since: must be a duration like 12h or 7d, got "${o.since}"`);
          const perType = Number(o.perType);
          if (!Number.isInteger(perType) || perType < 1 || perType > 10_000)
            throw new TrainingRequestError(`--per-type: a whole number from 1 to 10000, got "${o.perType}"`);
          const targets: ReplayTarget[] = [];
          for (const dir of o.histories ?? []) targets.push(...historyFiles(dir));
          if (o.env) {
            const env = o.env;
            const live = await withClient(loadConfig(globals().config), env, (client) =>
              namespaceHistories(client, { since: new Date(Date.now() - since.data), perType, filter: o.query }),
            );
            targets.push(...live);
          }
          const report = await replayAll(targets, await loadBundle(o.bundle));
          return {
            value: report,
            human: () =>
              [
                `replayed ${report.replayed} histories: ${
                  Object.entries(report.byType)
                    .map(([t, n]) => `${t} ${n}`)
                    .join(', ') || 'none'
                }`,
                ...report.failures.map((f) => `  ✗ ${f.workflowType} ${f.workflowId} (${f.source}): ${f.error}`),
              ].join('\n'),
            refusal: report.failures.length
              ? new TrainingRequestError(
                  `${report.failures.length} of ${report.replayed} histories do not replay on this bundle: ${report.failures.map((f) => f.workflowId).join(', ')}; do not deploy it (make the change with patched() or a new worker deployment version)`,
                )
              : undefined,
          };
        },
      ),
    );
}
