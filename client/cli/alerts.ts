import { Client, Connection } from '@temporalio/client';
import type { Command } from 'commander';
import { loadAlertReceiverEnv } from '../../config/alert-receiver-env';
import { loadTemporalEnv } from '../../config/env';
import { loadConfig } from '../../config/load-config';
import { temporalConnectConfig } from '../../config/temporal';
import { connectTo } from '../../infra/temporal/connect';
import { startAlertReceiver } from '../alerts/receiver';
import { incidentRuns } from '../alerts/runs';
import type { CliContext } from './context';

// `ct alerts serve | runs`: the receiver Cloud Monitoring's webhook channel posts incidents to, and
// which runs an incident started (docs/alert-triggers.md).

export function registerAlertCommands(program: Command, cli: CliContext): void {
  const alerts = program
    .command('alerts')
    .description('drift and quality alerts as retrain requests: the webhook receiver, and the runs incidents started');
  registerServe(alerts, cli);
  registerRuns(alerts, cli);
}

function registerServe(alerts: Command, { globals, shows, io }: CliContext): void {
  alerts
    .command('serve')
    .description(
      'receive Cloud Monitoring webhook notifications (CT_ALERTS_ADDRESS, CT_ALERTS_TOKEN, CT_ALERTS_TLS_*) until SIGINT or SIGTERM',
    )
    .action(
      shows(async () => {
        const config = loadConfig(globals().config);
        const settings = loadAlertReceiverEnv();
        const connection = await connectTo(temporalConnectConfig(loadTemporalEnv()).options, (o) =>
          Connection.connect(o),
        );
        // One connection; a client per namespace the config's environments name.
        const clients = new Map<string, Client>();
        const clientFor = (namespace: string) => {
          if (!clients.has(namespace)) clients.set(namespace, new Client({ connection, namespace }));
          return clients.get(namespace)!;
        };
        const receiver = await startAlertReceiver({
          config,
          clientFor,
          settings,
          log: (level, message) => io.err(`ct alerts: ${message}`, level),
        });
        io.err(`ct alerts: listening on ${receiver.url}`, 'INFO');
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await receiver.close();
        await connection.close();
        return { value: { stopped: true }, human: () => 'ct alerts: stopped' };
      }),
    );
}

function registerRuns(alerts: Command, { globals, withClient, shows }: CliContext): void {
  alerts
    .command('runs')
    .description('the training runs an incident started (its id on the run: search attribute alertIncidents)')
    .requiredOption('--incident <id>', "the incident's id, e.g. 0.opqiw61fsv7p")
    .option('--env <environment>', "the environment whose namespace to search (default: the client's namespace)")
    .option('--limit <n>', 'at most this many', '100')
    .action(
      shows(async (o: { incident: string; env?: string; limit: string }) => {
        const config = loadConfig(globals().config);
        const runs = await withClient(config, o.env ?? '', (client) =>
          incidentRuns(client, o.incident, Number(o.limit)),
        );
        return {
          value: runs,
          human: () =>
            runs
              .map(
                (r) =>
                  `${r.workflowId}  ${r.status.toLowerCase()}${r.phase ? ` · ${r.phase}` : ''}  ${r.startTime}${r.alert?.policy ? `  policy "${r.alert.policy}"` : ''}`,
              )
              .join('\n') || `incident ${o.incident} started no run`,
        };
      }),
    );
}
