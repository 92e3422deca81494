import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config';
import { sendDataReady, startTrainingFanout, startTrainingRun, TrainingRequestError } from '../training';
import type { CliContext } from './context';

// `ct data-ready | train`: tell waiting runs their data landed; start (or attach to) a training run.

export function registerTrainingCommands(program: Command, cli: CliContext): void {
  registerDataReady(program, cli);
  registerTrain(program, cli);
}

function registerDataReady(program: Command, { globals, withClient, shows }: CliContext): void {
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
    .action(
      shows(async (o: { env: string; dataset: string; partition: string; uri?: string; source: string }) => {
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
        return {
          value: report,
          human: () =>
            [
              `${o.dataset} ${o.partition} is ready; reached ${report.reached.length} run(s):`,
              ...report.reached.map(
                (r) =>
                  `  ${r.workflowId}  ${r.accepted ? 'accepted' : 'already had it'}; ${r.waitingFor.length ? `still waiting for ${r.waitingFor.join(', ')}` : `phase ${r.phase}`}`,
              ),
              ...report.finished.map((f) => `  ${f.workflowId}  already finished (nothing started)`),
            ].join('\n'),
        };
      }),
    );
}

function registerTrain(program: Command, { globals, withClient, shows }: CliContext): void {
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
      shows(async (o: TrainOptions) => {
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
          return {
            value: { workflowId: fanout.workflowId },
            human: () => `training fan-out ${fanout.workflowId} started (or already running)`,
          };
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
        return {
          value: { workflowId: handle.workflowId },
          human: () => `training run ${handle.workflowId} started (or already running)`,
        };
      }),
    );
}

interface TrainOptions {
  pipeline: string;
  env: string;
  partition: string;
  segment?: string;
  allSegments?: boolean;
  param: string[];
  assumeDataReady?: boolean;
  rerun?: boolean;
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
