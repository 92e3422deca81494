// `ct`'s commands, runnable in-process (client/cli.ts is the process entry; tests drive runCli).
// Input is checked (zod, the config) before anything is sent; every failure ends in one handler
// that prints the reason and returns the exit code.
import { Client, Connection } from '@temporalio/client';
import { Command, CommanderError } from 'commander';
import { InvalidEnvironment, loadTemporalEnv } from '../config/env';
import { ConfigError, loadConfig } from '../config/load-config';
import type { PipelineConfig } from '../config/pipeline-config';
import { connectTo, TemporalUnreachable, temporalConnectConfig } from '../config/temporal';
import { predictionProgressQuery } from '../contracts';
import { decideCandidate } from './model';
import { registerCostCommands } from './cli-cost';
import { registerDeployCommands } from './cli-deploy';
import { registerRunCommands } from './cli-runs';
import { registerScheduleCommands } from './cli-schedules';
import type { CliContext } from './cli-context';
import { startPredictionRun } from './prediction';
import { sendDataReady, startTrainingFanout, startTrainingRun, TrainingRequestError } from './training';

const EXIT_USAGE = 2;

async function withClient<T>(
  config: PipelineConfig,
  environment: string,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const connect = temporalConnectConfig(loadTemporalEnv());
  // Each environment names its own namespace in the config (staging and production apart).
  const namespace =
    Object.values(config.pipelines).find((p) => p.environments[environment])?.environments[environment]?.temporal
      .namespace ?? connect.namespace;
  const connection = await connectTo(connect.options, (o) => Connection.connect(o));
  try {
    return await fn(new Client({ connection, namespace }));
  } finally {
    await connection.close();
  }
}

/** Where a run of `ct` writes (the process's stdout and stderr, or a test's buffers). */
export interface CliIo {
  out: (text: string) => void;
  /** Diagnostics: refusals and usage errors (ERROR), progress (INFO). */
  err: (text: string, level?: 'INFO' | 'ERROR') => void;
}

function parseParams(pairs: string[]): Record<string, unknown> | undefined {
  if (!pairs.length) return undefined;
  return Object.fromEntries(
    pairs.map((pair) => {
      const i = pair.indexOf('=');
      if (i < 1) throw new TrainingRequestError(`--param takes name=value, got "${pair}"`);
      const raw = pair.slice(i + 1);
      let value: unknown = raw;
      try {
        value = JSON.parse(raw); // numbers, booleans, lists and objects; anything else stays a string
      } catch {
        // a plain string
      }
      return [pair.slice(0, i), value];
    }),
  );
}

/** Runs `ct` with these arguments (as after `ct`); resolves to the exit code. */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('ct')
    .description('ct-coordinator: continuous training on Vertex AI, coordinated by Temporal')
    .option('--config <file>', 'pipeline config (default: CT_CONFIG or config/pipelines.yaml)')
    .option('--json', 'print machine-readable JSON')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.out(t.replace(/\n$/, '')), writeErr: (t) => io.err(t.replace(/\n$/, '')) });

  const globals = () => program.opts<{ config?: string; json?: boolean }>();
  const print = (json: boolean, value: unknown, human: () => string) =>
    io.out(json ? JSON.stringify(value, null, 2) : human());
  const cli: CliContext = { globals, withClient, print };

  program
    .command('data-ready')
    .description(
      "tell every run that waits for a dataset's partition that it has landed (starting runs that do not exist yet)",
    )
    .requiredOption('--env <environment>', 'environment, e.g. staging')
    .requiredOption('--dataset <name>', 'dataset name, e.g. instagram_posts')
    .requiredOption('--partition <partition>', 'partition, e.g. 2026-11-21')
    .option('--uri <uri>', 'where the data is (for the record)')
    .option('--source <who>', 'who says so', 'ct-cli')
    .action(async (o: { env: string; dataset: string; partition: string; uri?: string; source: string }) => {
      const config = loadConfig(globals().config);
      const report = await withClient(config, o.env, (client) =>
        sendDataReady(client, config, {
          environment: o.env,
          dataset: o.dataset,
          partition: o.partition,
          uri: o.uri,
          source: o.source,
        }),
      );
      print(globals().json ?? false, report, () =>
        [
          `${o.dataset} ${o.partition} is ready; reached ${report.reached.length} run(s):`,
          ...report.reached.map(
            (r) =>
              `  ${r.workflowId}  ${r.accepted ? 'accepted' : 'already had it'}; ${r.waitingFor.length ? `still waiting for ${r.waitingFor.join(', ')}` : `phase ${r.phase}`}`,
          ),
          ...report.finished.map((f) => `  ${f.workflowId}  already finished (nothing started)`),
        ].join('\n'),
      );
    });

  program
    .command('train')
    .description('start (or attach to) the training run of a partition')
    .requiredOption('--pipeline <name>', 'pipeline from the config')
    .requiredOption('--env <environment>', 'environment, e.g. staging')
    .requiredOption('--partition <partition>', 'partition, e.g. 2026-11-21')
    .option('--segment <segment>', 'country-sns segment, e.g. jp-instagram')
    .option('--all-segments', 'train every segment of the partition, at most fanOut.maxConcurrentRuns at once')
    .option('--param <name=value...>', 'override a pipeline parameter (checked against the compiled spec)', [])
    .option('--assume-data-ready', 'do not wait for data-ready')
    .option('--rerun', 'train a partition whose run already finished, again')
    .action(
      async (o: {
        pipeline: string;
        env: string;
        partition: string;
        segment?: string;
        allSegments?: boolean;
        param: string[];
        assumeDataReady?: boolean;
        rerun?: boolean;
      }) => {
        const config = loadConfig(globals().config);
        if (o.allSegments) {
          if (o.segment || o.param.length || o.rerun)
            throw new TrainingRequestError('--all-segments takes no --segment, --param or --rerun');
          const fanout = await withClient(config, o.env, (client) =>
            startTrainingFanout(client, config, {
              pipeline: o.pipeline,
              environment: o.env,
              partition: o.partition,
              assumeDataReady: o.assumeDataReady,
            }),
          );
          return print(
            globals().json ?? false,
            { workflowId: fanout.workflowId },
            () => `training fan-out ${fanout.workflowId} started (or already running)`,
          );
        }
        const input = {
          pipeline: o.pipeline,
          environment: o.env,
          partition: o.partition,
          segment: o.segment,
          parameters: parseParams(o.param),
          assumeDataReady: o.assumeDataReady,
        };
        const handle = await withClient(config, o.env, (client) =>
          startTrainingRun(client, config, input, { rerun: o.rerun }),
        );
        print(
          globals().json ?? false,
          { workflowId: handle.workflowId },
          () => `training run ${handle.workflowId} started (or already running)`,
        );
      },
    );

  registerRunCommands(program, cli);
  registerCostCommands(program, cli);

  program
    .command('predict')
    .description('start (or attach to) the batch prediction run of a partition: one Vertex job per segment')
    .requiredOption('--pipeline <name>', 'pipeline from the config')
    .requiredOption('--env <environment>', 'environment, e.g. staging')
    .requiredOption('--partition <partition>', 'partition, e.g. 2026-11-21')
    .option('--segment <segment...>', 'only these segments (country-sns), e.g. jp-instagram us-tiktok')
    .option('--retry-failed', "re-run only the segments that did not succeed in the partition's last run")
    .option('--rerun', 'run every segment of a partition that already ran, again')
    .option('--wait', 'wait for the run to end and print its summary')
    .action(
      async (o: {
        pipeline: string;
        env: string;
        partition: string;
        segment?: string[];
        retryFailed?: boolean;
        rerun?: boolean;
        wait?: boolean;
      }) => {
        const config = loadConfig(globals().config);
        const input = {
          pipeline: o.pipeline,
          environment: o.env,
          partition: o.partition,
          segments: o.segment,
          retryFailed: o.retryFailed,
        };
        await withClient(config, o.env, async (client) => {
          const handle = await startPredictionRun(client, config, input, { rerun: o.rerun });
          if (!o.wait)
            return print(
              globals().json ?? false,
              { workflowId: handle.workflowId },
              () => `prediction run ${handle.workflowId} started (or already running)`,
            );
          // Progress on stderr while it waits (stdout stays the result, for scripts).
          const tick = setInterval(() => {
            void handle
              .query(predictionProgressQuery)
              .then((p) =>
                io.err(
                  `${handle.workflowId}: ${p.succeeded + p.failed + p.reused}/${p.total} done · running ${p.running} · failed ${p.failed}`,
                  'INFO',
                ),
              )
              .catch(() => undefined);
          }, 5_000);
          if (!globals().json) io.err(`waiting for ${handle.workflowId} …`, 'INFO');
          const summary = await handle.result().finally(() => clearInterval(tick));
          print(globals().json ?? false, summary, () =>
            [
              `${handle.workflowId}: ${summary.verdict} — ${summary.progress.succeeded} succeeded, ${summary.progress.failed} failed, ${summary.progress.reused} reused; summary at ${summary.summaryUri}`,
              ...summary.segments.filter((s) => s.outcome === 'failed').map((s) => `  ${s.segment}: ${s.error}`),
            ].join('\n'),
          );
          if (summary.verdict !== 'succeeded') exitCode = 1;
        });
      },
    );

  for (const decision of ['approve', 'reject'] as const) {
    program
      .command(decision)
      .description(
        decision === 'approve'
          ? "promote a run's candidate to champion (runs whose pipeline asks for approval)"
          : "refuse a run's candidate: champion stays where it is",
      )
      .requiredOption('--pipeline <name>', 'pipeline from the config')
      .requiredOption('--env <environment>', 'environment, e.g. production')
      .requiredOption('--partition <partition>', 'partition the run trained on, e.g. 2026-11-21')
      .option('--segment <segment>', 'country-sns segment, e.g. jp-instagram')
      .option('--by <who>', 'who decides (recorded in the run)', process.env.USER)
      .option('--reason <why>', decision === 'approve' ? 'why (optional)' : 'why (required)')
      .action(
        async (o: {
          pipeline: string;
          env: string;
          partition: string;
          segment?: string;
          by?: string;
          reason?: string;
        }) => {
          const config = loadConfig(globals().config);
          const run = { pipeline: o.pipeline, environment: o.env, partition: o.partition, segment: o.segment };
          const ack = await withClient(config, o.env, (client) =>
            decideCandidate(client, config, run, decision, { by: o.by ?? '', reason: o.reason }),
          );
          print(
            globals().json ?? false,
            ack,
            () =>
              `${ack.workflowId}: ${ack.modelVersion} ${ack.decision}${decision === 'approve' ? '; the run promotes it to champion and announces it' : ''}`,
          );
        },
      );
  }

  registerScheduleCommands(program, cli);
  registerDeployCommands(program, cli);

  program
    .command('validate')
    .description('check a pipeline config file')
    .argument('[file]', 'config file (default: the --config one)')
    .action((file?: string) => {
      const config = loadConfig(file ?? globals().config);
      print(
        globals().json ?? false,
        { ok: true, pipelines: Object.keys(config.pipelines) },
        () => `ok: ${Object.keys(config.pipelines).join(', ')}`,
      );
    });

  try {
    await program.parseAsync(args, { from: 'user' });
    return exitCode;
  } catch (err: unknown) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
    const known =
      err instanceof TrainingRequestError ||
      err instanceof ConfigError ||
      err instanceof InvalidEnvironment ||
      err instanceof TemporalUnreachable;
    io.err(`ct: ${known ? err.message : `unexpected error: ${err instanceof Error ? err.message : String(err)}`}`);
    return 1;
  }
}
