// docker-compose.yml and the Dockerfile, checked without a Docker engine: the file is loaded by
// compose-go (the loader Docker Compose uses; deploy/compose-check, module hashes pinned in its
// go.sum), then the resolved project is checked for what issue #15 asks of it.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { searchAttributeCliArgs } from '../../stack/search-attributes';
import { loadConfig } from '../../config/load-config';
import { resolveWorkerTarget } from '../../config/worker-target';
import { repoRoot } from '../../stack/tools';
import { JEMALLOC_CONF, JEMALLOC_PATHS } from '../../stack/allocator';
import { workerNodeOptions } from '../../stack/worker-command';
import pkg from '../../package.json';

jest.setTimeout(240_000);

interface Service {
  image?: string;
  container_name?: string;
  build?: { context: string };
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  environment?: Record<string, string | null>;
  healthcheck?: { test: string[] };
  volumes?: { type: string; source: string; target: string }[];
  stop_signal?: string;
  entrypoint?: string[];
  command?: string[];
  ports?: { target: number; published?: string }[];
}
type Project = { services: Record<string, Service> };

const composeFile = path.join(repoRoot, 'docker-compose.yml');
const version = readFileSync(path.join(repoRoot, 'deploy', 'temporal', 'version'), 'utf8').trim();

/** The compose-go checker's verdict: the resolved project, or its error. */
async function load(file: string, profiles?: string): Promise<{ project?: Project; error?: string }> {
  // Without the caller's compose variables: the file's own defaults are what is checked.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(CT_|POSTGRES_|GOOGLE_|COMPOSE_)/.test(k)),
  );
  if (profiles) env.COMPOSE_PROFILES = profiles;
  try {
    const { stdout } = await promisify(execFile)('go', ['run', '.', file], {
      cwd: path.join(repoRoot, 'deploy', 'compose-check'),
      env: { ...env, GOFLAGS: '-mod=readonly' },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { project: JSON.parse(stdout) as Project };
  } catch (err) {
    return { error: (err as { stderr?: string }).stderr ?? String(err) };
  }
}

let project: Project;
beforeAll(async () => {
  const loaded = await load(composeFile);
  if (!loaded.project) throw new Error(`docker-compose.yml does not load: ${loaded.error}`);
  project = loaded.project;
});

test('compose-go refuses an invalid file (so a pass means something)', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-compose-'));
  const text = readFileSync(composeFile, 'utf8');
  const broken = [
    text.replace('replicas: 3', 'replicas: three'),
    text.replace('condition: service_completed_successfully', 'condition: service_finished'),
    text.replace('    build: .\n', '    build: .\n    no_such_key: 1\n'),
  ];
  for (const [i, t] of broken.entries()) {
    expect(t).not.toBe(text);
    const file = path.join(dir, `broken-${i}.yml`);
    writeFileSync(file, t);
    const { project: p, error } = await load(file);
    expect(p).toBeUndefined();
    expect(error).toMatch(/compose-check: /);
  }
});

test('the topology issue #15 asks for: postgres → schema job → server → namespace job → 3 workers, and the UI', () => {
  const s = project.services;
  expect(Object.keys(s).sort()).toEqual(
    ['postgresql', 'temporal', 'temporal-namespaces', 'temporal-schema', 'temporal-ui', 'worker'].sort(),
  );
  expect(s.postgresql!.image).toMatch(/^postgres:16[.-]/);
  expect(s.postgresql!.healthcheck?.test.join(' ')).toMatch(/pg_isready/);
  // Each one-shot job and the server wait for what they need, in the conditions compose knows.
  const waits = (svc: Service) =>
    Object.fromEntries(Object.entries(svc.depends_on ?? {}).map(([dep, d]) => [dep, d.condition]));
  expect(waits(s['temporal-schema']!)).toEqual({ postgresql: 'service_healthy' });
  expect(waits(s.temporal!)).toEqual({ 'temporal-schema': 'service_completed_successfully' });
  expect(waits(s['temporal-namespaces']!)).toEqual({ temporal: 'service_healthy' });
  expect(waits(s.worker!)).toEqual({ 'temporal-namespaces': 'service_completed_successfully' });
  expect(s.worker!.deploy?.replicas).toBe(3);
  expect(s.worker!.build?.context).toBe(repoRoot);
  expect(s.worker!.stop_signal).toBe('SIGTERM');
  // Replicas need generated names; auto-setup is deprecated upstream.
  for (const [name, svc] of Object.entries(s)) {
    expect([name, svc.container_name]).toEqual([name, undefined]);
    expect(svc.image ?? '').not.toMatch(/auto-setup/);
  }
});

test('image tags are pinned, the Temporal ones to deploy/temporal/version (what the native topology builds)', () => {
  for (const [name, svc] of Object.entries(project.services)) {
    if (name === 'worker') continue; // built here
    const tag = /^[^:]+:(.+)$/.exec(svc.image ?? '')?.[1];
    expect([name, tag]).toEqual([name, expect.stringMatching(/^\d+\.\d+(\.\d+)?[\w.-]*$/)]);
  }
  expect(project.services.temporal!.image).toBe(`temporalio/server:${version}`);
  expect(project.services['temporal-schema']!.image).toBe(`temporalio/admin-tools:${version}`);
  expect(project.services['temporal-namespaces']!.image).toBe(`temporalio/admin-tools:${version}`);
});

test('the server runs our config and dynamic config, and the jobs our scripts: the files stack:prod runs', () => {
  const s = project.services;
  const mount = (svc: Service) => svc.volumes?.find((v) => v.target === '/etc/temporal/ct');
  for (const name of ['temporal', 'temporal-schema', 'temporal-namespaces']) {
    expect(mount(s[name]!)).toMatchObject({ type: 'bind', source: path.join(repoRoot, 'deploy', 'temporal') });
  }
  expect(s.temporal!.entrypoint!.join(' ')).toMatch(/temporal-server --config-file \/etc\/temporal\/ct\/config.yaml/);
  expect(s.temporal!.environment!.DYNAMIC_CONFIG_FILE_PATH).toBe('/etc/temporal/ct/dynamicconfig.yaml');
  expect(s['temporal-schema']!.entrypoint).toEqual(['/bin/sh', '/etc/temporal/ct/setup-schema.sh']);
  expect(s['temporal-namespaces']!.entrypoint).toEqual(['/bin/sh', '/etc/temporal/ct/setup-namespaces.sh']);
  // The variables deploy/temporal/config.yaml and setup-schema.sh read.
  for (const name of ['temporal', 'temporal-schema']) {
    expect(Object.keys(s[name]!.environment!)).toEqual(
      expect.arrayContaining(['POSTGRES_SEEDS', 'DB_PORT', 'POSTGRES_USER', 'POSTGRES_PWD']),
    );
  }
});

test("the defaults agree with the example config: the namespace job makes the workers' namespace", () => {
  const config = loadConfig();
  const env = project.services.worker!.environment!;
  const target = resolveWorkerTarget(config, {
    environments: env.CT_ENVIRONMENTS!.split(','),
    configFile: 'config/pipelines.yaml',
  });
  expect(project.services['temporal-namespaces']!.environment!.CT_NAMESPACES).toBe(target.namespace);
});

test('deploy/temporal/search-attributes lists exactly contracts/search-attributes.ts', () => {
  const listed = readFileSync(path.join(repoRoot, 'deploy', 'temporal', 'search-attributes'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => l.trim().split(/\s+/).join('='));
  const wanted = searchAttributeCliArgs().filter((a) => a !== '--search-attribute');
  expect(listed.sort()).toEqual(wanted.sort());
});

test('the Dockerfile: glibc Node 24 with jemalloc preloaded, multi-stage, build output and workflow bundle, non-root, health check, SIGTERM', () => {
  const docker = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
  const froms = [...docker.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
  expect(froms.length).toBeGreaterThanOrEqual(2);
  // glibc (Debian), and the Node the `node` dev dependency pins for every npm script.
  for (const from of froms) expect(from).toBe(`node:${pkg.devDependencies.node}-bookworm-slim`);
  expect(docker).toMatch(/RUN npm ci /);
  expect(docker).toMatch(/npm run build/);
  expect(docker).toMatch(/CT_WORKFLOW_BUNDLE=\/app\/dist\/workflow-bundle\.js/);
  expect(docker).toMatch(/^USER node$/m);
  expect(docker).toMatch(/^HEALTHCHECK .*\n?.*dist\/workers\/healthcheck\.js/m);
  expect(docker).toMatch(/^STOPSIGNAL SIGTERM$/m);
  // The runtime stage preloads Debian's jemalloc at the path it links, one the native topology looks for too.
  const runtime = docker.slice(docker.lastIndexOf('\nFROM '));
  expect(runtime).toMatch(/apt-get install -y --no-install-recommends libjemalloc2/);
  const linked = /ln -s "\/usr\/lib\/\$\(uname -m\)-linux-gnu\/libjemalloc\.so\.2" (\S+)/.exec(runtime)?.[1];
  expect(linked).toBeDefined();
  expect(runtime).toMatch(new RegExp(`LD_PRELOAD=${linked!.replace(/\./g, '\\.')} \\\\$`, 'm'));
  // …with the tuning the native topologies give it.
  expect(runtime).toMatch(new RegExp(`^\\s+MALLOC_CONF=${JEMALLOC_CONF}$`, 'm'));
  expect(JEMALLOC_PATHS).toContain(linked);
  // Node as PID 1 with exactly `npm start`'s V8 flags.
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(docker)![1]!) as string[];
  expect(cmd).toEqual(['node', ...workerNodeOptions, 'dist/workers/main.js']);
});

test('the image copies every folder `npm run build` compiles', () => {
  const docker = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
  const build = readFileSync(path.join(repoRoot, 'tsconfig.build.json'), 'utf8');
  const folders = JSON.parse(/"include":\s*(\[[^\]]*\])/.exec(build)![1]!) as string[];
  expect(folders.length).toBeGreaterThan(5);
  for (const folder of folders) expect(docker).toMatch(new RegExp(`^COPY ${folder} ${folder}$`, 'm'));
});

test('the alert receiver is opt-in (profile alerts): the worker image running `ct alerts serve` once the namespaces exist', async () => {
  expect(project.services.alerts).toBeUndefined();
  const { project: withAlerts, error } = await load(composeFile, 'alerts');
  if (!withAlerts) throw new Error(`docker-compose.yml with --profile alerts does not load: ${error}`);
  const alerts = withAlerts.services.alerts!;
  expect(alerts.image).toBe(withAlerts.services.worker!.image);
  expect(alerts.command).toEqual(['node', 'dist/client/cli/main.js', 'alerts', 'serve']);
  expect(alerts.depends_on?.['temporal-namespaces']?.condition).toBe('service_completed_successfully');
  expect(alerts.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', CT_ALERTS_ADDRESS: '0.0.0.0:8090' });
  expect(alerts.ports?.map((p) => p.target)).toEqual([8090]);
  // What the receiver's environment reads (config/alert-receiver-env.ts), every variable passed through.
  for (const k of ['CT_ALERTS_TOKEN', 'CT_ALERTS_TOKEN_FILE', 'CT_ALERTS_TLS_CERT_PATH', 'CT_ALERTS_TLS_KEY_PATH'])
    expect(Object.keys(alerts.environment!)).toContain(k);
});
