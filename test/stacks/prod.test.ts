// The production topology natively (`npm run stack:prod`): PostgreSQL, the Temporal server built
// from source on our config, three compiled workers. The README's example runs end to end on it —
// training, model, batch prediction — and the work is spread over every worker.
import { execSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { predictionRun, trainingRun } from '../../workflows';
import { namespaceHistories, replayAll } from '../../client/deploy-check';
import { isPortFree } from '../../stack/process';
import { repoRoot } from '../../stack/tools';
import { prodStackEnv, startProdStack, type ProdRun } from '../helpers/prod-stack';
import { eventually } from '../helpers/eventually';
import { jemallocLibrary } from '../../stack/allocator';
import { pidsAlive } from '../helpers/stack-process';
import { testStack } from '../setup/test-stack';

jest.setTimeout(600_000);

/** The names of a process's threads. */
const threadNames = (pid: number) =>
  readdirSync(`/proc/${pid}/task`).map((t) => readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim());

/** Every worker identity (pid@host) that started a workflow or activity task of the run. */
async function taskIdentities(client: Client, workflowId: string): Promise<Set<string>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const ids = new Set<string>();
  for (const e of history.events ?? []) {
    const id = e.workflowTaskStartedEventAttributes?.identity ?? e.activityTaskStartedEventAttributes?.identity;
    if (id) ids.add(id);
  }
  return ids;
}

test('stack:prod: up on PostgreSQL, the example training → model → prediction on 3 workers on jemalloc that all work, Ctrl-C leaves nothing', async () => {
  const env = await prodStackEnv();
  const t0 = Date.now();
  const run: ProdRun = startProdStack(env);
  let stopped = false;
  try {
    const banner = await run.banner();
    console.log(`stack:prod up in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    expect(banner).toMatch(new RegExp(`PostgreSQL\\s+127\\.0\\.0\\.1:${env.DB_PORT} `));
    expect(banner).toMatch(
      /Temporal server\s+\S+\s+\(v1\.32\.1, namespace ct-coordinator; deploy\/temporal\/config\.yaml\)/,
    );
    const pids = /pids (\d+), (\d+), (\d+)$/m.exec(banner)!.slice(1).map(Number);
    expect(pids).toHaveLength(3);
    // Each worker on jemalloc, as in the image (glibc's arenas cost ~200 MB a worker at scale).
    // .ci/run installs it; elsewhere, without it, the workers run on glibc's and say so.
    // Its tuning read: MALLOC_CONF's background_thread starts jemalloc's purging threads.
    if (jemallocLibrary() || process.env.CI)
      for (const pid of pids) {
        expect(readFileSync(`/proc/${pid}/maps`, 'utf8')).toMatch(/\/libjemalloc\.so\.2$/m);
        expect(threadNames(pid)).toContain('jemalloc_bg_thd');
      }
    else console.log('stacks/prod.test.ts: jemalloc not checked — not installed (bash scripts/jemalloc.sh)');
    const address = `127.0.0.1:${env.TEMPORAL_PORT}`;
    // The server is the one built from source, on the test's PostgreSQL (not a dev server).
    const lock = JSON.parse(readFileSync(path.join(env.CT_DATA_DIR!, 'prod', 'stack.lock'), 'utf8')) as {
      servicePids: number[];
    };
    const commands = pidsAlive(lock.servicePids).map((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '),
    );
    expect(commands.some((c) => /temporal-server --config-file \S+deploy\/temporal\/config\.yaml/.test(c))).toBe(true);
    expect(commands.some((c) => /postgres -D \S+\/prod\/postgres\/cluster/.test(c))).toBe(true);

    // The README's example, as the banner prints it: data-ready × 2 start and feed 11 training runs.
    const lines = banner.match(/^\s+(TEMPORAL_ADDRESS=\S+ npm run ct -- (data-ready|predict) .*)$/gm) ?? [];
    expect(lines).toHaveLength(3);
    const sh = (line: string) => execSync(line.trim(), { cwd: repoRoot, encoding: 'utf8', stdio: 'pipe' });
    expect(sh(lines[0]!)).toContain(' is ready; reached 4 run(s):');
    expect(sh(lines[1]!)).toContain(' is ready; reached 11 run(s):');

    const connection = await Connection.connect({ address });
    try {
      const client = new Client({ connection, namespace: 'ct-coordinator' });
      const trainingId = 'training:staging:sns-engagement:jp-instagram:2026-11-21';
      // The example polls Vertex once a minute, as in production.
      const result = await client.workflow.getHandle<typeof trainingRun>(trainingId).result();
      expect([result.status, result.model?.aliases]).toEqual(['succeeded', ['candidate', 'champion']]);

      // Batch prediction with the new champion, as printed (it waits for the run's end).
      sh(lines[2]!);
      const prediction = await client.workflow
        .getHandle<typeof predictionRun>('prediction:staging:sns-engagement:2026-11-21')
        .result();
      expect(prediction.verdict).toBe('succeeded');

      // The creates went through their create queue on one partition (stack/dynamic-config.ts), as
      // the server's metrics say per partition; the main queue kept the default four.
      const metrics = await (await fetch(`http://127.0.0.1:${env.TEMPORAL_METRICS_PORT}/metrics`)).text();
      const partitionsOf = (queue: RegExp) =>
        new Set(
          metrics
            .split('\n')
            .filter((l) => queue.test(l))
            .flatMap((l) => /partition="(\d+)"/.exec(l)?.[1] ?? []),
        );
      expect([...partitionsOf(/taskqueue="[^"]*_vertex_creates_[^"]*"/)]).toEqual(['0']);
      expect(partitionsOf(/taskqueue="ct_coordinator"/).size).toBeGreaterThan(1);

      // Each of the three workers took tasks: the histories of the runs (training runs still waiting
      // for their posts included) name them. The list is eventually consistent: poll.
      let byWorker: number[] = [];
      await eventually(async () => {
        const seen = new Set<string>();
        for await (const w of client.workflow.list()) {
          for (const identity of await taskIdentities(client, w.workflowId)) seen.add(identity);
        }
        byWorker = pids.map((pid) => [...seen].filter((i) => i.startsWith(`${pid}@`)).length);
        return byWorker.every((n) => n > 0) ? true : undefined;
      }, 60_000).catch((err: Error) => {
        throw new Error(`identities per worker ${JSON.stringify(byWorker)}: ${err.message}`);
      });

      // The pre-deploy check on what this cluster just ran: every run's history replays on the bundle.
      const report = await replayAll(await namespaceHistories(client, { since: new Date(t0), perType: 50 }), {
        codePath: testStack().CT_TEST_WORKFLOW_BUNDLE,
      });
      expect(report.failures).toEqual([]);
      expect(report.byType.trainingRun).toBeGreaterThan(0);
      expect(report.byType.predictionRun).toBe(1);
    } finally {
      await connection.close();
    }

    // The SIGINT reaches the script, which stops everything in order and exits 0.
    expect(await run.ctrlC()).toBe('0');
    stopped = true;
    expect(run.output()).toContain('stopped; nothing left running.');
    expect(pidsAlive([...lock.servicePids, ...pids])).toEqual([]);
    for (const key of ['DB_PORT', 'TEMPORAL_PORT', 'FAKE_GCS_PORT', 'VERTEX_EMULATOR_PORT']) {
      expect([key, await isPortFree(Number(env[key]))]).toEqual([key, true]);
    }
  } finally {
    if (!stopped) await run.ctrlC();
  }
});
