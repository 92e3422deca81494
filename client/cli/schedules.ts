import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config';
import type { CliContext } from './context';
import {
  backfillSchedule,
  describeSchedule,
  listSchedules,
  pauseSchedule,
  triggerSchedule,
} from '../schedules/operate';
import { applySync, formatPlan, planSync } from '../schedules/sync';
import { isPartition } from '../../contracts';
import { TrainingRequestError } from '../training';

// `ct schedules …`: sync (plan and apply) and the operations on this project's schedules.

/** Schedule ids are ct:{environment}:{pipeline}:{name}; the environment picks the namespace. */
const envOfId = (id: string) => {
  const m = /^ct:([^:]+):[^:]+:[^:]+$/.exec(id);
  if (!m)
    throw new TrainingRequestError(
      `"${id}" is not a ct schedule id (ct:{environment}:{pipeline}:{name}); see ct schedules list`,
    );
  return m[1]!;
};

export function registerScheduleCommands(program: Command, cli: CliContext): void {
  const schedules = program
    .command('schedules')
    .description('Temporal Schedules from the config: sync (plan and apply), and the operations on them');
  registerSync(schedules, cli);
  registerList(schedules, cli);
  registerDescribe(schedules, cli);
  registerPause(schedules, cli);
  registerTrigger(schedules, cli);
  registerBackfill(schedules, cli);
}

function registerSync(schedules: Command, { globals, withClient, shows }: CliContext): void {
  schedules
    .command('sync')
    .description(
      "make the environment's schedules what the config says: + create, ~ update in place, - delete (only schedules ct made)",
    )
    .requiredOption('--env <environment>', 'environment, e.g. production')
    .option('--dry-run', 'print the plan, change nothing')
    .action(
      shows(async (o: { env: string; dryRun?: boolean }) => {
        // The whole config is parsed (and refused with file and path) before anything is written.
        const config = loadConfig(globals().config);
        return withClient(config, o.env, async (client) => {
          const plan = await planSync(client, config, o.env);
          const writes = o.dryRun ? 0 : await applySync(client, plan);
          return {
            value: {
              environment: o.env,
              dryRun: !!o.dryRun,
              writes,
              unchanged: plan.unchanged,
              entries: plan.entries.map(({ op, id, changes }) => ({ op, id, changes })),
            },
            human: () =>
              `${formatPlan(plan)}${o.dryRun ? '\n(dry run: nothing written)' : `\napplied: ${writes} write(s)`}`,
          };
        });
      }),
    );
}

function registerList(schedules: Command, { globals, withClient, shows }: CliContext): void {
  schedules
    .command('list')
    .description("this project's schedules")
    .option('--env <environment>', 'only this environment')
    .action(
      shows(async (o: { env?: string }) => {
        const config = loadConfig(globals().config);
        const env = o.env ?? Object.keys(Object.values(config.pipelines)[0]?.environments ?? {})[0] ?? 'default';
        const list = await withClient(config, env, (client) => listSchedules(client, o.env));
        return {
          value: list,
          human: () =>
            list.map((s) => `${s.id}  ${s.paused ? `paused (${s.note ?? ''})` : 'active'}`).join('\n') ||
            'no schedules',
        };
      }),
    );
}

function registerDescribe(schedules: Command, { globals, withClient, shows }: CliContext): void {
  schedules
    .command('describe')
    .argument('<id>', 'schedule id, e.g. ct:production:sns-engagement:daily-training')
    .description('state, note, recent and next firings')
    .action(
      shows(async (id: string) => {
        const config = loadConfig(globals().config);
        const d = await withClient(config, envOfId(id), (client) => describeSchedule(client, id));
        return {
          value: d,
          human: () =>
            [
              `${d.id}: ${d.paused ? 'paused' : 'active'}${d.note ? ` — ${d.note}` : ''}`,
              `next: ${d.nextActionTimes.join(', ') || 'none'}`,
              ...d.recentActions.map((a) => `ran: ${a.scheduledAt} ${a.workflowId}`),
            ].join('\n'),
        };
      }),
    );
}

function registerPause(schedules: Command, { globals, withClient, shows }: CliContext): void {
  for (const verb of ['pause', 'unpause'] as const) {
    const command = schedules
      .command(verb)
      .argument('<id>', 'schedule id')
      .requiredOption('--note <why>', 'why (shows in describe and in the UI)')
      .description(
        verb === 'pause' ? 'stop firing until unpaused (the firings a pause spans are skipped)' : 'fire again',
      );
    if (verb === 'unpause')
      command.option(
        '--catch-up',
        "also run the firings the pause skipped that are still within the schedule's catchupWindow",
      );
    command.action(
      shows(async (id: string, o: { note: string; catchUp?: boolean }) => {
        const config = loadConfig(globals().config);
        const d = await withClient(config, envOfId(id), (client) =>
          pauseSchedule(client, id, verb === 'pause', o.note, { catchUp: o.catchUp }),
        );
        const caught = d.caughtUp
          ? `\n${d.caughtUp.requested ? `catching up the firings from ${d.caughtUp.from} to ${d.caughtUp.to}` : 'no skipped firing is within the catch-up window'}`
          : '';
        return { value: d, human: () => `${d.id}: ${d.paused ? 'paused' : 'active'} — ${d.note ?? ''}${caught}` };
      }),
    );
  }
}

function registerTrigger(schedules: Command, { globals, withClient, shows }: CliContext): void {
  schedules
    .command('trigger')
    .argument('<id>', 'schedule id')
    .description('fire now (the partition is worked out from now)')
    .action(
      shows(async (id: string) => {
        const config = loadConfig(globals().config);
        await withClient(config, envOfId(id), (client) => triggerSchedule(client, id));
        return { value: { id, triggered: true }, human: () => `${id}: triggered` };
      }),
    );
}

function registerBackfill(schedules: Command, { globals, withClient, shows }: CliContext): void {
  schedules
    .command('backfill')
    .argument('<id>', 'schedule id')
    .requiredOption('--from <time>', 'ISO time, e.g. 2026-11-01T00:00:00Z')
    .requiredOption('--to <time>', 'ISO time')
    .description('run the firings of a past range; partitions that already ran start nothing new')
    .action(
      shows(async (id: string, o: { from: string; to: string }) => {
        const [from, to] = [isoTime(o.from), isoTime(o.to)];
        if (!from || !to)
          throw new TrainingRequestError(
            `--${from ? 'to' : 'from'} takes an ISO time like 2026-11-01T00:00:00Z (a real date, with its offset)`,
          );
        const config = loadConfig(globals().config);
        await withClient(config, envOfId(id), (client) => backfillSchedule(client, id, from, to));
        return {
          value: { id, from: from.toISOString(), to: to.toISOString() },
          human: () => `${id}: backfill ${from.toISOString()} … ${to.toISOString()} requested`,
        };
      }),
    );
}

/** An ISO time with offset on a real calendar day (Date alone rolls 2026-02-30 over to March). */
function isoTime(text: string): Date | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  const at = new Date(text);
  return m && isPartition(m[1], 'daily') && !Number.isNaN(at.getTime()) ? at : undefined;
}
