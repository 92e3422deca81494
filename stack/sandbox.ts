// Runs one command beside a fake-gcs-server and a Vertex AI emulator of its own (plaintext and TLS,
// token endpoint, CONNECT proxy), with the environment a Google client needs to find them and to
// stay off the network. With --netns the whole group runs in a new network namespace that has only
// loopback, so any connection meant for elsewhere (the GCE metadata server, oauth2.googleapis.com,
// a region endpoint) fails at once instead of leaving the machine.
//
//   tsx stack/sandbox.ts [--netns] -- COMMAND [ARGS…]
//
// Exit status: the command's. The command sees (besides the variables below) SANDBOX_* variables:
// VERTEX_EMULATOR_HOST, _PORT, _TLS_PORT, _CONTROL_URL, _CA, _TOKEN_URI, GCS endpoint and bucket.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBuckets, startFakeGcs } from './gcs-server';
import { freePort, type Service } from './process';
import { readToolPaths } from './tools';
import { startVertexEmulator } from './vertex-emulator';

const INSIDE = 'CT_SANDBOX_NETNS';
export const SANDBOX_PROJECT = 'ct-sandbox';
export const SANDBOX_BUCKET = 'ct-sandbox-bucket';

/** Only loopback here: the namespace this process was started in has no way out. */
export function loopbackOnly(): boolean {
  // /proc/net is this process's namespace (/sys/class/net would still show the host's).
  const devices = readFileSync('/proc/net/dev', 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0]!.trim())
    .filter(Boolean);
  return devices.every((dev) => dev === 'lo');
}

function reexecInNamespace(argv: string[]): never {
  // unshare needs CAP_SYS_ADMIN (root, as in CI); `ip link set lo up` brings up the namespace's own loopback.
  const r = spawnSync(
    'unshare',
    ['--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, ...process.execArgv, ...argv],
    {
      stdio: 'inherit',
      env: { ...process.env, [INSIDE]: '1' },
    },
  );
  if (r.error)
    throw new Error(
      `could not start a network namespace (unshare: ${r.error.message}); run without --netns, or as root`,
    );
  process.exit(r.status ?? 1);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const sep = args.indexOf('--');
  const flags = sep < 0 ? args : args.slice(0, sep);
  const command = sep < 0 ? [] : args.slice(sep + 1);
  if (!command.length) throw new Error('usage: tsx stack/sandbox.ts [--netns] -- COMMAND [ARGS…]');
  if (flags.includes('--netns') && !process.env[INSIDE]) reexecInNamespace(process.argv.slice(1));
  if (flags.includes('--netns') && !loopbackOnly())
    throw new Error('expected a loopback-only network namespace, but other interfaces are visible');

  const tools = readToolPaths();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ct-sandbox-'));
  const services: Service[] = [];
  let code = 1;
  try {
    const [gcsPort, vertexPort, controlPort, tlsPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const gcs = await startFakeGcs({
      binary: tools.fakeGcsServer,
      port: gcsPort,
      logFile: path.join(tmp, 'fake-gcs-server.log'),
    });
    services.push(gcs.service);
    await ensureBuckets(gcs.endpoint, SANDBOX_PROJECT, [SANDBOX_BUCKET]);
    const vertex = await startVertexEmulator({
      port: vertexPort,
      controlPort,
      gcsEndpoint: gcs.endpoint,
      projectId: SANDBOX_PROJECT,
      logFile: path.join(tmp, 'vertex-ai-emulator.log'),
      tls: { port: tlsPort, dir: path.join(tmp, 'tls') },
    });
    services.push(vertex.service);
    const closedPort = await freePort(); // nothing listens: a metadata-server probe is refused at once
    const env = {
      ...process.env,
      SANDBOX_VERTEX_HOST: vertex.host,
      SANDBOX_VERTEX_PORT: String(vertex.port),
      SANDBOX_VERTEX_TLS_PORT: String(vertex.tls!.port),
      SANDBOX_VERTEX_CONTROL_URL: vertex.controlUrl,
      SANDBOX_VERTEX_CA: vertex.tls!.caCertPath,
      SANDBOX_VERTEX_TOKEN_URI: vertex.tls!.tokenUri,
      SANDBOX_GCS_ENDPOINT: gcs.endpoint,
      SANDBOX_GCS_BUCKET: SANDBOX_BUCKET,
      SANDBOX_PROJECT,
      SANDBOX_NETNS: flags.includes('--netns') ? '1' : '',
      SANDBOX_TMP: tmp,
      // Google's auth libraries must not look for a metadata server or a default project elsewhere.
      NO_GCE_CHECK: 'true',
      GCE_METADATA_HOST: `127.0.0.1:${closedPort}`,
      GCE_METADATA_IP: `127.0.0.1:${closedPort}`,
      METADATA_SERVER_DETECTION: 'none',
      STORAGE_EMULATOR_HOST: gcs.endpoint,
      GOOGLE_CLOUD_PROJECT: SANDBOX_PROJECT,
    };
    code = await new Promise<number>((resolve, reject) => {
      const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env });
      child.on('error', reject);
      child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)));
    });
    // Which served RPCs the command called: a suite that claims to cover the API can be held to it.
    const [methods, counts] = await Promise.all(
      ['methods', 'calls/counts'].map(async (p) => (await fetch(`${vertex.controlUrl}/${p}`)).json()),
    );
    console.log(
      `sandbox: calls by method ${JSON.stringify(Object.fromEntries((methods as string[]).map((m) => [m, (counts as Record<string, number>)[m] ?? 0])))}`,
    );
    if (code !== 0) console.error(`sandbox: ${command[0]} exited ${code}; emulator log: ${vertex.service.logTail(30)}`);
  } finally {
    await Promise.all(services.map((s) => s.stop()));
    if (code === 0) rmSync(tmp, { recursive: true, force: true });
  }
  process.exit(code);
}

main().catch((err: unknown) => {
  console.error(`sandbox: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
