// A canary rollout's running cost in Temporal actions and API reads: version 1 serving all of an
// endpoint's traffic under steady load, version 2 rolled out by steps 10 → 50 → 100 %, each watched
// with a health read a second (time compressed; a real watch reads once a minute). Prints the
// totals, what one health check costs, and that scaled to a watched hour at one check a minute.
//   npm run bench:rollout [-- --watch-seconds 20]
import { parseArgs } from 'node:util';
import { parseConfig } from '../config/load-config';
import { countActions } from '../observability/actions';
import { startRollout } from '../starts/rollout';
import type { modelRollout } from '../workflows';
import { BENCH_PROJECT, benchCustomJob, benchEnvironment, runBench, startBenchStack } from './stack';

const { values } = parseArgs({ options: { 'watch-seconds': { type: 'string', default: '20' } } });
const watchSeconds = Number(values['watch-seconds']);
const steps = [10, 50, 100];
const parent = `projects/${BENCH_PROJECT}/locations/us-central1`;

const configText = JSON.stringify({
  version: 1,
  pipelines: {
    served: {
      environments: { bench: benchEnvironment },
      data: { partition: 'daily', datasets: ['features'], timeout: '1h' },
      training: benchCustomJob,
      model: { registry: { modelId: 'served', displayName: 'served', servingImage: 'img' } },
      serving: {
        steps,
        watch: `${watchSeconds}s`,
        checkEvery: '1s',
        health: { minPredictions: 5 },
        keepPrevious: '1s',
      },
    },
  },
});

runBench('rollout', async () => {
  const stack = await startBenchStack();
  const v = stack.vertex('us-central1');
  try {
    const worker = await stack.startWorkerProcess(configText);
    const upload = async (parentModel?: string) => {
      const [op] = await v.models.uploadModel({
        parent,
        ...(parentModel ? { parentModel } : { modelId: 'served' }),
        model: { displayName: 'served', artifactUri: 'gs://ct-bench/m', containerSpec: { imageUri: 'img' } },
      });
      const [res] = await op.promise();
      return { model: res.model!, versionId: res.modelVersionId! };
    };
    const v1 = await upload();
    const [createOp] = await v.endpoints.createEndpoint({ parent, endpoint: { displayName: 'served-bench' } });
    const [endpoint] = await createOp.promise();
    const [deployOp] = await v.endpoints.deployModel({
      endpoint: endpoint.name!,
      deployedModel: {
        model: `${v1.model}@${v1.versionId}`,
        dedicatedResources: { machineSpec: { machineType: 'n1-standard-2' }, minReplicaCount: 1 },
      },
      trafficSplit: { '0': 100 },
    });
    await deployOp.promise();
    const v2 = await upload(v1.model);
    // Steady traffic, 20 requests a second, so every check has predictions to judge.
    let stop = false;
    const traffic = (async () => {
      while (!stop) {
        await v.predictions
          .predict({ endpoint: endpoint.name!, instances: [{ numberValue: 1 }] })
          .catch(() => undefined);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const since = (await stack.control.calls({ project: BENCH_PROJECT })).at(-1)?.seq ?? 0;
    const t0 = Date.now();
    const { workflowId } = await startRollout(stack.client, parseConfig(configText, 'bench'), {
      pipeline: 'served',
      environment: 'bench',
      version: v2.versionId,
      startedBy: 'bench',
    });
    const handle = stack.client.workflow.getHandle<typeof modelRollout>(workflowId);
    const result = await handle.result();
    const wallSeconds = (Date.now() - t0) / 1000;
    stop = true;
    await traffic;
    const actions = countActions((await handle.fetchHistory()).events ?? []);
    const calls = (await stack.control.calls({ project: BENCH_PROJECT, after: since })).filter(
      (c) => c.method !== 'Predict',
    );
    const byMethod: Record<string, number> = {};
    for (const c of calls) byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;
    const monitoringReads = byMethod.ListTimeSeries ?? 0;
    const vertexReads = calls.length - monitoringReads;
    const checks = steps.length * watchSeconds;
    const perCheck = (n: number) => Math.round((n / checks) * 100) / 100;
    await worker.service.stop();
    return {
      outcome: result.outcome,
      steps,
      watchSecondsPerStep: watchSeconds,
      checks,
      wallSeconds: Math.round(wallSeconds),
      actions: actions.total,
      actionsByKind: actions.byKind,
      vertexCallsByMethod: byMethod,
      perCheck: {
        actions: perCheck(actions.total),
        vertexCalls: perCheck(vertexReads),
        monitoringReads: perCheck(monitoringReads),
      },
      // A real watch checks once a minute: 60 checks per watched hour. Includes the rollout's fixed
      // steps (plan, deploy, splits, alias, undeploy) spread over its checks, so an upper bound.
      perWatchedHourAtOneCheckAMinute: {
        actions: Math.round(perCheck(actions.total) * 60),
        vertexCalls: Math.round(perCheck(vertexReads) * 60),
        monitoringReads: Math.round(perCheck(monitoringReads) * 60),
      },
    };
  } finally {
    await stack.close();
  }
});
