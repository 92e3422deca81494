// `npm run dev` as a person uses it: it comes up, prints a working example command and the worker's
// metrics URL, refuses a second copy, keeps its state across a restart, and Ctrl-C leaves no process
// and no port.
import { execSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isPortFree } from '../../stack/process';
import { readToolPaths } from '../../stack/tools';
import { devStackPorts } from '../helpers/dev-stack';
import { eventually } from '../helpers/eventually';
import { pidsAlive, startStackProcess, type StackProcess } from '../helpers/stack-process';

jest.setTimeout(240_000);

const root = path.join(__dirname, '..', '..');

const startDev = (env: NodeJS.ProcessEnv): StackProcess =>
  startStackProcess('npm run dev', 'npm', ['run', 'dev'], {
    cwd: root,
    env: { ...process.env, ...env },
    upWithin: 120_000,
  });

test('npm run dev: up, example run, second copy refused, restart keeps state, Ctrl-C leaves nothing', async () => {
  const ports = await devStackPorts();
  const env = {
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    CT_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'ct-dev-')),
  };
  const first = startDev(env);
  let stopped = false;
  try {
    const banner = await first.banner();
    const uiUrl = /Temporal UI\s+(\S+)/.exec(banner)![1]!;
    expect((await fetch(uiUrl)).status).toBe(200);
    // The emulator's TLS port and the local CA its certificate chains to, under the data folder.
    const [, tlsAddress, caPath] = /TLS (\S+), CA (\S+)/.exec(banner)!;
    expect(tlsAddress).toBe(`127.0.0.1:${ports.VERTEX_EMULATOR_TLS_PORT}`);
    expect(caPath).toBe(path.join(env.CT_DATA_DIR, 'vertex-ai', 'tls', 'ca.pem'));
    expect(new X509Certificate(readFileSync(caPath!)).ca).toBe(true);

    // The printed one-liner starts a real run that the worker picks up.
    const example = /^\s+(\S*temporal workflow start .*)$/m.exec(banner)![1]!.replace('$(date +%s)', 'dev-test');
    execSync(example, { cwd: root, stdio: 'pipe' });
    const cli = readToolPaths().temporal;
    const describe = () =>
      JSON.parse(
        execSync(
          `${cli} workflow describe --address 127.0.0.1:${ports.TEMPORAL_PORT} --namespace ct-coordinator -w stack-check-dev-test -o json`,
          {
            encoding: 'utf8',
          },
        ),
      ) as { workflowExecutionInfo: { status: string }; pendingActivities?: unknown[] };
    await eventually(() => {
      const history = execSync(
        `${cli} workflow show --address 127.0.0.1:${ports.TEMPORAL_PORT} --namespace ct-coordinator -w stack-check-dev-test -o json`,
        {
          encoding: 'utf8',
        },
      );
      return history.includes('EVENT_TYPE_TIMER_STARTED') ? true : undefined; // wrote, read back, now holding
    });

    // The training example: two data-ready calls start and feed a run that trains on the emulator.
    // instagram_posts concerns the 4 countries' Instagram runs; user_profiles all 11 segments.
    const lines = banner.match(/^\s+(\S*\s*npm run ct -- data-ready .*)$/gm) ?? [];
    expect(lines).toHaveLength(2);
    for (const [i, line] of lines.entries()) {
      const out = execSync(line.trim(), { cwd: root, encoding: 'utf8', stdio: 'pipe' });
      expect(out).toContain(` is ready; reached ${[4, 11][i]} run(s):`);
    }
    await eventually(() => {
      const d = JSON.parse(
        execSync(
          `${cli} workflow describe --address 127.0.0.1:${ports.TEMPORAL_PORT} --namespace ct-coordinator -w training:staging:sns-engagement:jp-instagram:2026-11-21 -o json`,
          { encoding: 'utf8' },
        ),
      ) as { workflowExecutionInfo: { status: string } };
      return d.workflowExecutionInfo.status === 'WORKFLOW_EXECUTION_STATUS_COMPLETED' ? true : undefined;
    }, 150_000); // the example polls Vertex once a minute, as in production
    // The worker's metrics, where the banner says: the domain's series beside the SDK's.
    const metricsUrl = /worker metrics\s+(\S+)/.exec(banner)![1]!;
    expect(metricsUrl).toBe(`http://127.0.0.1:${ports.WORKER_METRICS_PORT}/metrics`);
    const scrape = await (await fetch(metricsUrl)).text();
    expect(scrape).toMatch(/^ct_runs_started\{.*\} [1-9]/m);
    expect(scrape).toMatch(/^ct_vertex_calls\{.*\} [1-9]/m);
    expect(scrape).toMatch(/^temporal_num_pollers\{/m);
    // …and carried on to a promoted champion announced by a manifest in fake GCS (staging promotes directly).
    const manifestUrl = `http://127.0.0.1:${ports.FAKE_GCS_PORT}/storage/v1/b/ct-staging-pipelines/o/${encodeURIComponent('models/sns-engagement/jp-instagram/manifest.json')}?alt=media`;
    const manifest = (await (await fetch(manifestUrl)).json()) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      pipeline: 'sns-engagement',
      environment: 'staging',
      segment: 'jp-instagram',
      partition: '2026-11-21',
      aliases: ['candidate', 'champion'],
    });
    expect(manifest.model).toMatch(/\/models\/sns-engagement-jp-instagram$/);
    // The printed schedules sync puts the example's two schedules into Temporal.
    const syncLine = banner.match(/^\s+(\S*\s*npm run ct -- schedules sync .*)$/m)![1]!;
    expect(execSync(syncLine.trim(), { cwd: root, encoding: 'utf8', stdio: 'pipe' })).toContain(
      'staging: 2 to create, 0 to update, 0 to delete, 0 unchanged',
    );

    const second = startDev(env);
    expect(await second.exited).toBe('1');
    expect(second.output()).toMatch(/already running \(pid \d+/);

    const lock = JSON.parse(readFileSync(path.join(env.CT_DATA_DIR, 'dev.lock'), 'utf8')) as { servicePids: number[] };
    const servicePids = lock.servicePids;
    expect(servicePids).toHaveLength(4); // temporal, fake-gcs-server, vertex-ai emulator, worker
    // npm itself dies of the SIGINT (as in a terminal); the dev script stops the stack cleanly.
    expect(await first.ctrlC()).toBe('SIGINT');
    stopped = true;
    expect(first.output()).toContain('nothing left running');
    expect(pidsAlive([first.child.pid!, ...servicePids])).toEqual([]);
    for (const port of Object.values(ports)) expect(await isPortFree(port)).toBe(true);

    // The SQLite file under the data folder keeps the run across a restart.
    const again = startDev(env);
    try {
      await again.banner();
      expect(describe().workflowExecutionInfo.status).toBe('WORKFLOW_EXECUTION_STATUS_RUNNING');
    } finally {
      expect(await again.ctrlC()).toBe('SIGINT');
    }
    for (const port of Object.values(ports)) expect(await isPortFree(port)).toBe(true);
  } finally {
    if (!stopped) await first.ctrlC();
  }
});
