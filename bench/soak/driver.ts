// `npm run soak`: a season of the README's kind of project in compressed time, on `npm run
// stack:prod` started as a user starts it, with faults throughout; the checker (checker.ts) then
// states what must be true of what happened. docs/soak.md says what it does and how to read it.
//   npm run soak [-- --hours 1 --day-seconds 60 --countries 6 --sns 3 --models 2]   the bench
//   npm run soak -- --ci                                                              the CI size
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Storage } from '@google-cloud/storage';
import { Client, Connection } from '@temporalio/client';
import { bundleBuildId } from '../../config/build-id';
import { parseConfig } from '../../config/load-config';
import { loadPrices } from '../../config/prices';
import { dataReadyTargets } from '../../starts/data-ready';
import { partitionAt, predictionProgressQuery, trainingStatusQuery } from '../../contracts';
import { VertexEmulatorControl } from '../../emulators/vertex-ai/control-client';
import { repoRoot } from '../../stack/tools';
import { airflowTask } from './airflow';
import { checkSoak } from './checker';
import { acrossDeploy, deployBuild, saveHistories } from './deploy';
import { restarted, sigkill, VertexFaults, workerToKill, type Injected } from './faults';
import { growthOf, sampleAll, slopePerHour } from './growth';
import { emptyLedger, soakLedgerSchema } from './ledger';
import { Operator } from './operator';
import { parseOptions, type SoakOptions } from './options';
import { countBy, dataReadyToCreate, endToNoticed, quantile, readExecutions } from './outcomes';
import { applyBreak, brokenBuilds } from './broken-builds';
import { previousBuild, workflowsAt, type PreviousBuild } from './previous-build';
import { startProdStack } from './prod-stack';
import { actionAt, rng, seasonPlan, soakConfig, type Action, type CancelPhase, type DataReadySend } from './season';
import { summary, type SoakResult } from './result';

const NAMESPACE = 'ct-coordinator';
const TASK_QUEUE = 'ct-coordinator';
/** The stack's workers are versions of this Worker Deployment (CT_DEPLOYMENT_NAME), as in production. */
const DEPLOYMENT = 'ct-soak';

/** Runs `work` for each call, at most `limit` at once; `drain` waits for all of them. */
function limiter(limit: number) {
  let running = 0;
  const queue: (() => void)[] = [];
  const pending = new Set<Promise<unknown>>();
  return {
    run(work: () => Promise<unknown>): void {
      const p = (async () => {
        if (running >= limit) await new Promise<void>((r) => queue.push(r));
        running++;
        try {
          await work();
        } finally {
          running--;
          queue.shift()?.();
        }
      })();
      pending.add(p);
      void p.finally(() => pending.delete(p));
    },
    drain: async () => {
      while (pending.size) await Promise.allSettled([...pending]);
    },
  };
}

/** Repeats `tick` every `everyMs` until stopped (a tick's failure is reported, not fatal). */
function every(everyMs: number, tick: () => void | Promise<void>, onError: (err: unknown) => void) {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await sleep(everyMs);
      if (!stopped) await Promise.resolve().then(tick).catch(onError);
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

/** Seconds from one ISO time to another (null when either is missing). */
const secondsBetween = (a?: string, b?: string) =>
  a && b ? Math.round((Date.parse(b) - Date.parse(a)) / 100) / 10 : null;

/** `fn` again every 2 s while it fails (the server or its database restarting), for up to `ms`. */
async function patiently<T>(fn: () => Promise<T>, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() + 2_000 > deadline) throw err;
      await sleep(2_000);
    }
  }
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const wall0 = Date.now();
  const outDir = path.dirname(o.resultPath);
  for (const file of [o.resultPath, o.ledgerPath, o.stackLogPath]) mkdirSync(path.dirname(file), { recursive: true });
  const configPath = path.join(outDir, 'pipelines.json');
  const configObject = soakConfig(o.size);
  writeFileSync(configPath, JSON.stringify(configObject, null, 2));
  const config = parseConfig(JSON.stringify(configObject), configPath);
  const prices = loadPrices();
  const random = rng(o.seed + 1);
  const problems: string[] = [];
  const note = (what: string) => (err: unknown) =>
    void problems.push(`${new Date().toISOString()} ${what}: ${err instanceof Error ? err.message : String(err)}`);

  // With a deploy, the season starts on the previous workflow code and this build comes mid-season.
  let blue: PreviousBuild | undefined;
  if (o.deployAt !== undefined) {
    blue = await previousBuild(path.join(outDir, 'builds'), o.deployFrom);
    console.error(
      `soak: the season starts on ${blue.commit.slice(0, 12)} (${blue.subject.slice(0, 80)}), built in ${(blue.buildMs / 1000).toFixed(1)}s; this build comes at ${Math.round(o.deployAt * 100)} %`,
    );
  }
  // A deliberately broken build of this checkout: the whole season on it, and the checker must say so.
  const breakName = o.breakBuild;
  const broken = breakName
    ? await workflowsAt(path.join(outDir, 'builds'), 'HEAD', {
        name: breakName,
        apply: (d) => applyBreak(d, breakName),
      })
    : undefined;
  if (breakName)
    console.error(`soak: the season runs on a broken build: ${breakName} (${brokenBuilds[breakName]!.what})`);
  const startBundle = broken?.bundle ?? blue?.bundle ?? o.workflowBundle;
  console.error(`soak: starting npm run stack:prod (${o.build ? 'with its build' : 'on the build there is'}) …`);
  const stack = await startProdStack({
    build: o.build,
    logFile: o.stackLogPath,
    env: {
      CT_CONFIG: configPath,
      CT_VERTEX_WATCH_INTERVAL_MS: String(o.watchIntervalMs),
      CT_VERTEX_LATE_CREATE_WINDOW_MS: String(o.lateCreateWindowMs),
      // A season's creates in an hour: a project whose create quota is raised, as the benches raise it;
      // the prediction pipelines' createsPerMinute (season.ts) sets the create queue's pace below it.
      CT_VERTEX_CREATES_PER_MINUTE: '600',
      CT_DEPLOYMENT_NAME: DEPLOYMENT,
      ...(startBundle ? { CT_WORKFLOW_BUNDLE: startBundle } : {}),
    },
  });
  const stackUpMs = Date.now() - wall0;
  console.error(`soak: stack up in ${(stackUpMs / 1000).toFixed(1)}s (data in ${stack.dataDir})`);
  // The stack runs in a process group of its own: a Ctrl-C of the soak stops it as the soak's own end does.
  const interrupted = () => void stack.stop().finally(() => process.exit(130));
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  // `ct` (client/cli) connects the way the Temporal CLI does: these say where.
  process.env.TEMPORAL_ADDRESS = stack.temporalAddress;
  process.env.METADATA_SERVER_DETECTION = 'none';
  const connection = await Connection.connect({ address: stack.temporalAddress }).catch(async (err: unknown) => {
    await stack.stop();
    throw err;
  });
  const client = new Client({ connection, namespace: NAMESPACE });
  const control = new VertexEmulatorControl(stack.vertexControlUrl);
  const storage = new Storage({
    apiEndpoint: stack.gcsEndpoint,
    projectId: 'ct-local',
    useAuthWithCustomEndpoint: false,
  });
  const operator = new Operator(configPath);
  /** What visibility lists for `query` now, as an operator's filter in the UI would. */
  const list = (query: string) =>
    patiently(async () => {
      const found: { workflowId: string; runId: string; type: string; phase?: string }[] = [];
      for await (const wf of client.workflow.list({ query }))
        found.push({
          workflowId: wf.workflowId,
          runId: wf.runId,
          type: wf.type,
          phase: wf.searchAttributes.runPhase?.[0] as string | undefined,
        });
      return found;
    });

  const ledger = emptyLedger({
    temporalAddress: stack.temporalAddress,
    namespace: NAMESPACE,
    taskQueue: TASK_QUEUE,
    vertexControlUrl: stack.vertexControlUrl,
    vertexApiEndpoint: stack.vertexApiEndpoint,
    gcsEndpoint: stack.gcsEndpoint,
    configPath,
  });
  const flush = () => writeFileSync(o.ledgerPath, JSON.stringify(ledger, null, 2));
  const fault = (f: Injected) => void ledger.faults.push({ ...f, at: new Date().toISOString() });
  const openRuns: { at: string; open: number }[] = [];
  let result: SoakResult | undefined;

  try {
    await control.patchSettings({ defaults: { runningMs: o.jobRunningMs } });
    // The schedules, through the same config and command a user has.
    const sync = await operator.ctPatiently(['schedules', 'sync', '--env', 'staging']);
    if (sync.code !== 0) throw new Error(`ct schedules sync failed (${sync.code}): ${sync.err || sync.out}`);
    const listed = await operator.ct('schedules', 'list', '--env', 'staging');
    // What sync made, with what visibility lists (a schedule just created may be missing from it).
    const made = (JSON.parse(sync.out) as { entries: { op: string; id: string }[] }).entries.filter(
      (e) => e.op !== 'delete',
    );
    const scheduleIds = [
      ...new Set([...made.map((e) => e.id), ...(JSON.parse(listed.out) as { id: string }[]).map((s) => s.id)]),
    ].sort();
    const windowStart = new Date().toISOString();

    const t0 = Date.now();
    const seasonMs = o.size.days * o.size.daySeconds * 1000;
    const tasks = limiter(16);

    // What grows, sampled all along.
    const stopSampling = every(
      o.sampleEveryMs,
      async () => {
        ledger.samples.push(...sampleAll(stack.processes()));
        // Unanswered while the server or its database restarts: that sample is skipped.
        const open = await client.workflow.count('ExecutionStatus = "Running"').catch(() => undefined);
        if (open) openRuns.push({ at: new Date().toISOString(), open: open.count });
      },
      note('sampling'),
    );
    const stopFlush = every(10_000, flush, note('writing the ledger'));

    // Faults from Vertex, in turn.
    const kinds = ['pipelineJob', 'batchPredictionJob', ...(o.size.models >= 2 ? ['customJob' as const] : [])] as const;
    const vertex = new VertexFaults(control, { lateCommitMs: o.lateCommitMs, kinds: [...kinds] });
    const stopVertexFaults = every(
      o.vertexFaultEveryMs,
      async () => fault(await vertex.next()),
      note('a Vertex fault'),
    );
    // Faults from the process table: a worker every few minutes, the server and PostgreSQL at set points.
    const workerBorn = new Map<number, number>();
    const stopWorkerKills = every(
      o.workerKillEveryMs,
      () => {
        const w = workerToKill(stack, workerBorn);
        if (w) fault(sigkill(w, 'worker'));
      },
      note('killing a worker'),
    );
    const oneOffs = [
      ...o.serverKillsAt.map((f) => ({ f, name: 'temporal', what: 'temporal-server' })),
      ...o.postgresKillsAt.map((f) => ({ f, name: 'postgres', what: 'postgres' })),
    ].map(async ({ f, name, what }) => {
      await sleep(f * seasonMs);
      const p = stack.processes().find((x) => x.name === name);
      if (!p) return note(`killing ${name}`)(new Error('not found in the stack'));
      const at = Date.now();
      fault(sigkill(p, what));
      if (!(await restarted(stack, name, at - 1000, 180_000)))
        note(`restarting ${name}`)(new Error('the stack did not report it back within 180 s'));
    });

    // The blue-green deploy, mid-season: this build's workers beside the previous one's, then current.
    const thisBuild = o.workflowBundle ?? path.join(repoRoot, 'dist', 'workflow-bundle.js');
    const deploying = (async () => {
      if (o.deployAt === undefined || !blue) return;
      await sleep(o.deployAt * seasonMs);
      const from = { buildId: bundleBuildId(blue.bundle), commit: blue.commit };
      const entry = {
        requestedAt: new Date().toISOString(),
        from,
        to: { buildId: bundleBuildId(thisBuild) },
        state: 'requested',
        steps: {} as Record<string, string>,
        message: '',
      };
      ledger.deploys!.push(entry);
      fault({
        kind: 'deploy:blue-green',
        detail: `${from.buildId} (${blue.commit.slice(0, 12)}) → ${entry.to.buildId} (this checkout)`,
      });
      const run = await deployBuild(stack, thisBuild);
      Object.assign(entry, {
        state: run.status?.state ?? `no report (exit ${run.exitCode})`,
        steps: run.status?.at ?? {},
        message: run.status?.message ?? run.output.slice(-1000),
      });
      if (run.exitCode !== 0) note('npm run stack:prod:deploy')(new Error(entry.message));
    })().catch(note('the blue-green deploy'));

    // The season.
    const sentBefore = new Set<string>();
    let airflowRetries = 0;
    const decided = new Set<string>();
    const cancelled = new Set<string>();
    const scheduleDataSent = new Set<string>();

    const sendDataReady = async (s: Omit<DataReadySend, 'at' | 'day' | 'sendDay'> & { late: boolean }) => {
      const key = `${s.environment}|${s.dataset}|${s.partition}`;
      const duplicate = s.duplicate || sentBefore.has(key);
      sentBefore.add(key);
      const sentAt = new Date().toISOString();
      const req = { environment: s.environment, dataset: s.dataset, partition: s.partition, source: 'airflow:soak' };
      await airflowTask(client, TASK_QUEUE, req, {
        retryDelayMs: 5_000,
        deadlineMs: 300_000,
        onRetry: () => void airflowRetries++,
      });
      // One entry per run the data-ready is for (the product's own routing: starts/data-ready.ts).
      for (const run of dataReadyTargets(config, req))
        ledger.dataReady.push({
          pipeline: run.pipeline,
          environment: s.environment,
          segment: run.segment ?? 'all',
          dataset: s.dataset,
          partition: s.partition,
          sentAt,
          duplicate,
          late: s.late,
        });
    };

    const approvals = async () => {
      const query = 'WorkflowType = "trainingRun" AND ExecutionStatus = "Running" AND runPhase = "awaiting-approval"';
      for (const wf of await list(query)) {
        if (decided.has(wf.workflowId)) continue;
        decided.add(wf.workflowId);
        const [, env, pipeline, segment, partition] = wf.workflowId.split(':');
        const r = random();
        const decision = r < 0.6 ? 'approve' : r < 0.8 ? 'reject' : 'timeout';
        if (decision === 'timeout') {
          ledger.approvals.push({ workflowId: wf.workflowId, decision, at: new Date().toISOString() });
          continue;
        }
        const call = await operator.ctPatiently([
          decision,
          '--pipeline',
          pipeline!,
          '--env',
          env!,
          '--partition',
          partition!,
          ...(segment === 'all' ? [] : ['--segment', segment!]),
          '--by',
          'soak-operator',
          '--reason',
          decision === 'approve' ? 'offline metrics ok' : 'drift in this segment',
        ]);
        if (call.code === 0) ledger.approvals.push({ workflowId: wf.workflowId, decision, at: call.at });
      }
    };

    /** A run in `phase` now, cancelled as an operator would (`ct cancel --id`); false when none was found. */
    const cancelOne = async (phase: CancelPhase): Promise<boolean> => {
      const query =
        phase === 'prediction'
          ? 'WorkflowType = "predictionRun" AND ExecutionStatus = "Running"'
          : `WorkflowType = "trainingRun" AND ExecutionStatus = "Running" AND runPhase = "${phase}"`;
      const candidates = (await list(query)).filter((wf) => !cancelled.has(wf.workflowId));
      if (!candidates.length) return false;
      const target = candidates[Math.floor(random() * candidates.length)]!;
      const handle = client.workflow.getHandle(target.workflowId);
      let seen: string = phase;
      if (phase === 'prediction') {
        const p = await handle.query(predictionProgressQuery).catch(() => undefined);
        if (p) seen = `prediction (${p.running} segments running, ${p.pending} pending)`;
      } else {
        const s = await handle.query(trainingStatusQuery).catch(() => undefined);
        if (s) seen = s.phase;
        // Now and then the cancel loses the race: Vertex finishes the job anyway.
        if (s?.phase === 'running' && s.job && random() < 0.3) fault(await vertex.loseCancel(s.job.name));
      }
      cancelled.add(target.workflowId);
      const call = await operator.ctPatiently(['cancel', '--id', target.workflowId]);
      if (call.code !== 0) return (note(`ct cancel ${target.workflowId}`)(new Error(call.err)), true);
      ledger.cancels.push({ workflowId: target.workflowId, runId: target.runId, at: call.at, phase: seen });
      return true;
    };
    const missedCancels: string[] = [];

    const perform = async (action: Action, day: number) => {
      switch (action.kind) {
        case 'data-ready':
          return sendDataReady(action.send);
        case 'schedule-data': {
          // What Airflow sends for the partitions the schedules fire for now (they count in real time).
          const now = new Date();
          const sends = [
            ...['user_profiles', ...config.pipelines.engagement!.segments!.sns.map((x) => `${x}_posts`)].map(
              (dataset) => ({
                pipeline: 'engagement',
                dataset,
                partition: partitionAt(now, 'daily', -1, o.size.timezone),
              }),
            ),
            ...(config.pipelines.churn
              ? [
                  {
                    pipeline: 'churn',
                    dataset: 'creator_activity',
                    partition: partitionAt(now, 'hourly', -1, o.size.timezone),
                  },
                ]
              : []),
          ].filter((s) => !scheduleDataSent.has(`${s.dataset}|${s.partition}`));
          for (const s of sends) {
            scheduleDataSent.add(`${s.dataset}|${s.partition}`);
            tasks.run(() =>
              sendDataReady({ ...s, environment: 'staging', duplicate: false, late: false }).catch(
                note(`data-ready ${s.dataset} ${s.partition}`),
              ),
            );
          }
          return;
        }
        case 'approvals':
          return approvals();
        case 'predict': {
          const call = await operator.ctPatiently([
            'predict',
            '--pipeline',
            action.pipeline,
            '--env',
            'staging',
            '--partition',
            action.partition,
          ]);
          if (call.code !== 0) note(`ct predict ${action.pipeline} ${action.partition}`)(new Error(call.err));
          return;
        }
        case 'cancel': {
          // Runs pass through some phases in seconds: look for one for a while.
          const until = Date.now() + 0.2 * o.size.daySeconds * 1000;
          while (Date.now() < until) {
            if (await cancelOne(action.phase)) return;
            await sleep(500);
          }
          missedCancels.push(`day ${day}: no run was ${action.phase} when looked for`);
          return;
        }
      }
    };

    const plan = seasonPlan(o.size, o.seed);
    console.error(
      `soak: season of ${o.size.days} days × ${o.size.daySeconds}s from ${o.size.startDate} (${plan.length} actions), schedules ${scheduleIds.join(', ')}`,
    );
    for (const { day, action } of plan) {
      // Late data for days after the season: Airflow catching up as the season ends.
      const at = t0 + Math.min(day + actionAt(action), o.size.days) * o.size.daySeconds * 1000;
      if (at > Date.now()) await sleep(at - Date.now());
      tasks.run(() =>
        perform(action, day).catch(
          note(
            `${action.kind} on day ${day}${action.kind === 'data-ready' ? ` ${action.send.dataset} ${action.send.partition}` : ''}`,
          ),
        ),
      );
    }
    const seasonEnd = t0 + seasonMs;
    if (seasonEnd > Date.now()) await sleep(seasonEnd - Date.now());

    // The season is over: faults stop, the schedules are paused, the last approvals answered.
    console.error('soak: season over; stopping the faults, pausing the schedules, draining …');
    await Promise.all([stopVertexFaults(), stopWorkerKills(), ...oneOffs]);
    await vertex.disarm();
    for (const id of scheduleIds) {
      const call = await operator.ctPatiently(['schedules', 'pause', id, '--note', 'the soak season is over']);
      if (call.code !== 0) note(`ct schedules pause ${id}`)(new Error(call.err));
    }
    const windowEnd = new Date().toISOString();
    ledger.schedules = scheduleIds.map((scheduleId) => ({ scheduleId, windowStart, windowEnd }));
    await tasks.drain();

    // Drain: every run left finishes (approvals time out, late data arrives or is given up on).
    const drainStart = Date.now();
    let open = Infinity;
    while (Date.now() - drainStart < o.drainMs) {
      open = (await client.workflow.count('ExecutionStatus = "Running"').catch(() => ({ count: Infinity }))).count;
      if (open === 0) break;
      await approvals().catch(note('approvals while draining'));
      await sleep(2_000);
    }
    const stuck = open === 0 ? [] : (await list('ExecutionStatus = "Running"')).map(({ runId: _, ...wf }) => wf);
    // With no run left pinned to the old build, the deploy ends within a few looks.
    // (An unref'd timer: it must not keep the driver alive after the soak.)
    await Promise.race([deploying, sleep(60_000, undefined, { ref: false })]);
    await stopSampling();
    await stopFlush();
    ledger.endedAt = new Date().toISOString();
    flush();
    const drainMs = Date.now() - drainStart;

    // What must be true of it all, then what happened.
    console.error('soak: checking …');
    const check = await checkSoak(soakLedgerSchema.parse(ledger), { temporal: client, vertex: control, storage });
    const executions = await readExecutions(client, prices);
    const jobs = await control.jobs();
    const deployed = ledger.deploys?.[0];
    const across = deployed?.to.buildId ? acrossDeploy(executions, deployed.from.buildId, deployed.to.buildId) : [];
    const acrossHistories = await saveHistories(across, path.join(outDir, 'across-deploy'), {
      address: stack.temporalAddress,
      namespace: NAMESPACE,
    }).catch((err: unknown) => (note('saving the histories across the deploy')(err), []));
    const training = executions.filter((e) => e.type === 'trainingRun');
    const simulatedMonths = o.size.days / 30;
    const actions = executions.reduce((n, e) => n + e.actions, 0);
    const temporalUsd = executions.reduce((n, e) => n + e.temporalUsd, 0);
    const vertexUsd = executions.reduce((n, e) => n + e.vertexUsd, 0);
    const byType = Object.entries(countBy(executions, (e) => e.type)).map(([type, runs]) => {
      const of = executions.filter((e) => e.type === type);
      const events = of.map((e) => e.events);
      return {
        type,
        runs,
        eventsP50: quantile(events, 0.5),
        eventsMax: Math.max(...events),
        bytesMax: Math.max(...of.map((e) => e.bytes)),
      };
    });
    const latency = (values: number[]) => ({
      n: values.length,
      p50Ms: quantile(values, 0.5),
      p99Ms: quantile(values, 0.99),
      maxMs: values.length ? Math.max(...values) : null,
    });

    result = {
      soak: o.ci ? 'ci' : 'bench',
      // A deploy that did not finish (its old workers still up, or it failed) fails the soak too.
      ok: check.ok && stuck.length === 0 && (!deployed || deployed.state === 'done'),
      season: {
        ...o.size,
        seed: o.seed,
        endDate: new Date(Date.parse(o.size.startDate) + (o.size.days - 1) * 86_400_000).toISOString().slice(0, 10),
      },
      wall: {
        totalSeconds: 0,
        stackUpSeconds: Math.round(stackUpMs / 100) / 10,
        seasonSeconds: Math.round(seasonMs / 100) / 10,
        drainSeconds: Math.round(drainMs / 100) / 10,
      },
      runs: {
        executions: executions.length,
        byType: countBy(executions, (e) => e.type),
        byStatus: countBy(executions, (e) => `${e.type}:${e.status}`),
        trainingOutcomes: countBy(training, (e) => `${e.workflowId.split(':')[2]}:${e.outcome}`),
        stuck,
      },
      jobs: { total: jobs.length, byKindAndState: countBy(jobs, (j) => `${j.kind}:${j.state}`) },
      dataReady: {
        sent: new Set(ledger.dataReady.map((d) => `${d.environment}|${d.dataset}|${d.partition}|${d.sentAt}`)).size,
        runsReached: ledger.dataReady.length,
        late: ledger.dataReady.filter((d) => d.late).length,
        duplicate: ledger.dataReady.filter((d) => d.duplicate).length,
        airflowRetries,
      },
      operators: {
        cancels: countBy(ledger.cancels, (c) => c.phase.split(' ')[0]!),
        missedCancels,
        approvals: countBy(ledger.approvals, (a) => a.decision),
        ctCalls: operator.calls.length,
        ctRefused: operator.calls
          .filter((c) => c.code !== 0)
          .map((c) => `${c.args.join(' ')} → ${c.err.slice(0, 300)}`),
      },
      faults: countBy(ledger.faults, (f) => f.kind),
      deploy: deployed && {
        from: { ...deployed.from, subject: blue?.subject },
        to: deployed.to,
        state: deployed.state,
        message: deployed.message,
        steps: deployed.steps,
        seconds: {
          toCurrent: secondsBetween(deployed.requestedAt, deployed.steps.draining),
          drain: secondsBetween(deployed.steps.draining, deployed.steps.retiring),
          total: secondsBetween(deployed.requestedAt, deployed.steps.done),
        },
        runsAcross: countBy(across, (e) => e.type),
        histories: acrossHistories,
      },
      invariants: check.invariants,
      ...(breakName && {
        broken: {
          name: breakName,
          what: brokenBuilds[breakName]!.what,
          mustFail: brokenBuilds[breakName]!.breaks,
          failed: check.invariants.filter((i) => !i.ok).map((i) => i.name),
        },
      }),
      checker: (check as { figures?: unknown }).figures,
      latency: {
        dataReadyToJobCreated: latency(dataReadyToCreate(ledger, jobs, config)),
        jobEndToNoticed: latency(endToNoticed(executions, jobs)),
      },
      growth: {
        processes: growthOf(ledger.samples, 30_000),
        openRuns: {
          samples: openRuns.length,
          peak: Math.max(0, ...openRuns.map((s) => s.open)),
          last: openRuns.at(-1)?.open ?? null,
          slopePerHour: slopePerHour(openRuns.map((s) => ({ at: s.at, y: s.open }))),
        },
        history: byType,
      },
      cost: {
        actions,
        actionsByKind: executions.reduce<Record<string, number>>((acc, e) => {
          for (const [k, v] of Object.entries(e.actionsByKind)) acc[k] = (acc[k] ?? 0) + v;
          return acc;
        }, {}),
        temporalUsd: Math.round(temporalUsd * 1e4) / 1e4,
        vertexUsd: Math.round(vertexUsd * 1e4) / 1e4,
        perSimulatedMonth: {
          actions: Math.round(actions / simulatedMonths),
          temporalUsd: Math.round((temporalUsd / simulatedMonths) * 100) / 100,
          vertexUsd: Math.round((vertexUsd / simulatedMonths) * 100) / 100,
        },
        prices: { asOf: prices.asOf, currency: prices.currency },
      },
      stack: { stoppedCleanly: false, dataKept: true },
      problems,
      paths: { ledger: o.ledgerPath, result: o.resultPath, stackLog: o.stackLogPath, dataDir: stack.dataDir },
    };
  } finally {
    flush();
    await connection.close().catch(() => undefined);
    // A terminal's Ctrl-C: the stack stops workers, servers, then the database, and says so.
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
    const code = await stack.stop();
    // npm passes the Ctrl-C on, then ends by the same signal itself: SIGINT is its clean exit.
    const clean = ['0', 'SIGINT'].includes(code) && stack.output().includes('stopped; nothing left running.');
    if (!clean)
      problems.push(`npm run stack:prod stopped with ${code}; its last lines:\n${stack.output().slice(-2000)}`);
    if (result) {
      result.stack.stoppedCleanly = clean;
      result.ok &&= clean;
      // A soak that passed leaves only its ledger, result and output; a failed one its whole stack, to look into.
      result.stack.dataKept = o.keepData || !result.ok;
      if (!result.stack.dataKept) rmSync(stack.dataDir, { recursive: true, force: true });
    }
  }
  return result;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const t0 = Date.now();
  const result = await runSoak(o);
  result.wall.totalSeconds = Math.round((Date.now() - t0) / 100) / 10;
  writeFileSync(o.resultPath, JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result, null, 2));
  console.error(summary(result));
  process.exitCode = result.ok ? 0 : 1;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
