import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config';
import type { CliContext } from './context';
import { cancelRun, listRuns, runIdOf, runStatus, type RunAddress } from '../runs';

// `ct status | cancel | list`: one run by its id or its identity, or many by filter.

const addressed = (c: Command) =>
  c
    .option('--id <workflowId>', "the run's workflow id")
    .option('--pipeline <name>', 'pipeline')
    .option('--env <environment>', 'environment')
    .option('--partition <partition>', 'partition')
    .option('--segment <segment>', 'segment (training runs per segment)')
    .option('--prediction', 'the prediction run of the partition, not its training');
type Addressed = {
  id?: string;
  pipeline?: string;
  env?: string;
  partition?: string;
  segment?: string;
  prediction?: boolean;
};
const addressOf = (o: Addressed): RunAddress => ({
  id: o.id,
  pipeline: o.pipeline,
  environment: o.env,
  partition: o.partition,
  segment: o.segment,
  prediction: o.prediction,
});

export function registerRunCommands(program: Command, cli: CliContext): void {
  registerStatus(program, cli);
  registerCancel(program, cli);
  registerList(program, cli);
}

function registerStatus(program: Command, { globals, withClient, shows }: CliContext): void {
  addressed(
    program
      .command('status')
      .description('where a run is: phase, data, Vertex job and console link, or prediction progress'),
  ).action(
    shows(async (o: Addressed) => {
      const config = loadConfig(globals().config);
      const id = runIdOf(addressOf(o), config);
      const s = await withClient(config, o.env ?? id.split(':')[1] ?? '', (client) => runStatus(client, id));
      return {
        value: s,
        human: () => {
          const d = s.detail as
            | {
                phase?: string;
                reason?: string;
                job?: { state?: string; consoleUrl?: string };
                total?: number;
                succeeded?: number;
                failed?: number;
                running?: number;
                pending?: number;
              }
            | undefined;
          const lines = [
            `${s.workflowId}: ${s.status.toLowerCase()}${d?.phase ? ` · ${d.phase}` : ''}${d?.reason ? ` — ${d.reason}` : ''}`,
          ];
          if (d?.job) lines.push(`Vertex job ${d.job.state ?? ''}: ${d.job.consoleUrl ?? ''}`);
          // No worker answered the query (all down, a deploy gone wrong): the run's memo still names its job.
          else if (!d && s.vertexJob)
            lines.push(
              `Vertex job of attempt ${s.vertexJob.attempt} (from the run's memo; no worker answered): ${s.vertexJob.consoleUrl}`,
            );
          if (d?.total !== undefined)
            lines.push(
              `segments: ${d.total} · pending ${d.pending} · running ${d.running} · succeeded ${d.succeeded} · failed ${d.failed}`,
            );
          return lines.join('\n');
        },
      };
    }),
  );
}

function registerCancel(program: Command, { globals, withClient, shows }: CliContext): void {
  addressed(
    program.command('cancel').description('cancel a run: its Vertex jobs are cancelled, then it ends Cancelled'),
  ).action(
    shows(async (o: Addressed) => {
      const config = loadConfig(globals().config);
      const id = runIdOf(addressOf(o), config);
      await withClient(config, o.env ?? id.split(':')[1] ?? '', (client) => cancelRun(client, id));
      return {
        value: { workflowId: id, cancelRequested: true },
        human: () => `${id}: cancel requested; the run cancels its Vertex job and ends Cancelled when the job has`,
      };
    }),
  );
}

function registerList(program: Command, { globals, withClient, shows }: CliContext): void {
  program
    .command('list')
    .description('training and prediction runs, newest first')
    .option('--pipeline <name>', 'only this pipeline')
    .option('--env <environment>', 'only this environment')
    .option('--status <status>', 'running, completed, failed, cancelled, terminated or timed-out')
    .option('--type <type>', 'training or prediction')
    .option('--limit <n>', 'at most this many', '100')
    .action(
      shows(async (o: { pipeline?: string; env?: string; status?: string; type?: string; limit: string }) => {
        const config = loadConfig(globals().config);
        const runs = await withClient(config, o.env ?? '', (client) =>
          listRuns(client, {
            pipeline: o.pipeline,
            environment: o.env,
            status: o.status,
            type: o.type,
            limit: /^\s*$/.test(o.limit) ? NaN : Number(o.limit),
          }),
        );
        return {
          value: runs,
          human: () =>
            runs
              .map((r) => `${r.workflowId}  ${r.status.toLowerCase()}${r.phase ? ` · ${r.phase}` : ''}  ${r.startTime}`)
              .join('\n') || 'no runs',
        };
      }),
    );
}
