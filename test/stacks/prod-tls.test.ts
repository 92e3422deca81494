// Connecting the way Temporal Cloud needs: the production topology's server (built from source, on
// PostgreSQL) serving its frontend and internode traffic over TLS and requiring client
// certificates from a CA of the test's own (openssl). The worker and `ct` connect with nothing but
// the envconfig settings every Temporal tool reads: the TEMPORAL_TLS_* variables, or a TOML profile.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadTemporalEnv } from '../../config/env';
import { temporalConnectConfig } from '../../config/temporal';
import { startTestCluster, type TestCluster } from '../helpers/cluster';
import { uniquePartition, type IsolatedProject } from '../helpers/isolation';
import { customJobTraining, monthlyData, projectWith } from '../helpers/pipelines';
import { uniqueId } from '../helpers/temporal';
import { makeTestCerts, type TestCerts } from '../helpers/tls-certs';
import { emulatorControl } from '../helpers/vertex';
import { startWorkerProcess } from '../helpers/worker-process';

jest.setTimeout(240_000);

const NAMESPACE = 'ct-tls-test';
const root = path.join(__dirname, '..', '..');
const control = emulatorControl();
let certs: TestCerts;
let cluster: TestCluster;
let connection: Connection;
let client: Client;
beforeAll(async () => {
  certs = makeTestCerts();
  cluster = await startTestCluster(NAMESPACE, {
    tls: {
      caCert: certs.caCert,
      serverCert: certs.serverCert,
      serverKey: certs.serverKey,
      clientCert: certs.clientCert,
      clientKey: certs.clientKey,
    },
  });
  connection = await Connection.connect(cluster.temporal.connection);
  client = new Client({ connection, namespace: NAMESPACE });
}, 180_000);
afterAll(async () => {
  await connection?.close();
  await cluster?.stop();
});

/** The envconfig variables for this cluster: its CA, and a client certificate unless told otherwise. */
const tlsEnv = (cert: 'ours' | 'stranger' | 'none'): Record<string, string> => ({
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.caCert,
  // The certificate names localhost (and 127.0.0.1, which TLS's SNI cannot carry).
  TEMPORAL_TLS_SERVER_NAME: 'localhost',
  ...(cert === 'none'
    ? {}
    : {
        TEMPORAL_TLS_CLIENT_CERT_PATH: cert === 'ours' ? certs.clientCert : certs.strangerCert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: cert === 'ours' ? certs.clientKey : certs.strangerKey,
      }),
});

/** `ct` as a person runs it (bin/ct.cjs), with only the given Temporal settings. */
function ct(env: Record<string, string>, configPath: string, ...args: string[]) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_')));
  const child = spawn(process.execPath, [path.join(root, 'bin', 'ct.cjs'), '--config', configPath, ...args], {
    cwd: root,
    env: { ...base, CT_LOG_FORMAT: 'pretty', TEMPORAL_ADDRESS: cluster.temporal.address, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
}

/**
 * A monthly churn (a CustomJob) whose staging runs go to this cluster's namespace and `taskQueue`,
 * in a Vertex project of its own.
 */
const routed = (taskQueue: string): IsolatedProject =>
  projectWith({
    churn: {
      data: monthlyData(['creator_activity']),
      training: customJobTraining,
      environments: { staging: { temporal: { namespace: NAMESPACE, taskQueue } } },
    },
  });

test('a training run completes over mTLS: the worker reads the TEMPORAL_TLS_* variables, ct a TOML profile', async () => {
  const taskQueue = uniqueId('tls');
  const iso = routed(taskQueue);
  const { configPath } = iso;
  const worker = await startWorkerProcess({
    taskQueue,
    address: cluster.temporal.address,
    namespace: NAMESPACE,
    configPath,
    env: tlsEnv('ours'),
  });
  try {
    // ct with a profile, as `temporal config set` writes one (Temporal Cloud's mTLS form).
    const profile = path.join(certs.dir, 'temporal.toml');
    writeFileSync(
      profile,
      `[profile.tls-test]\naddress = "${cluster.temporal.address}"\n` +
        `[profile.tls-test.tls]\nclient_cert_path = "${certs.clientCert}"\nclient_key_path = "${certs.clientKey}"\n` +
        `server_ca_cert_path = "${certs.caCert}"\nserver_name = "localhost"\n`,
    );
    const partition = uniquePartition('monthly');
    const started = await ct(
      { TEMPORAL_CONFIG_FILE: profile, TEMPORAL_PROFILE: 'tls-test', TEMPORAL_ADDRESS: '' },
      configPath,
      '--json',
      'train',
      '--pipeline',
      'churn',
      '--env',
      'staging',
      '--partition',
      partition,
      '--assume-data-ready',
    );
    expect(started).toMatchObject({ code: 0 });
    const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };
    const handle = client.workflow.getHandle(workflowId);
    expect(await handle.result()).toMatchObject({ status: 'succeeded', attempts: 1 });
    // The worker over mTLS ran it (its identity is pid@host).
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.some((e) => e.activityTaskStartedEventAttributes?.identity?.startsWith(`${worker.pid}@`))).toBe(true);
    expect(await control.jobs({ project: iso.project, labels: { 'ct-partition': partition } })).toHaveLength(1);
    // ct reads the run back over the variables alone, too.
    const status = await ct(tlsEnv('ours'), configPath, '--json', 'status', '--id', workflowId);
    expect(status).toMatchObject({ code: 0 });
  } finally {
    await worker.stop();
    await iso.cleanup();
  }
});

test('without a client certificate the server refuses the connection, and ct and the worker say what is missing', async () => {
  const { configPath } = routed(uniqueId('tls-refused')); // nothing reaches Vertex: no rules to remove
  const args = ['list', '--env', 'staging'];
  // TLS with the CA but no certificate (the server ends the handshake), a certificate from a CA
  // the server does not trust, and plain text to a TLS server: each refused, saying why.
  const [certless, stranger, plain] = await Promise.all([
    ct(tlsEnv('none'), configPath, ...args),
    ct(tlsEnv('stranger'), configPath, ...args),
    ct({}, configPath, ...args),
  ]);
  expect(certless.code).toBe(1);
  expect(certless.stderr).toContain(`cannot reach Temporal at ${cluster.temporal.address} (TLS)`);
  expect(certless.stderr).toContain(
    'The server requires a client certificate (mTLS): set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH',
  );
  expect(stranger.code).toBe(1);
  expect(stranger.stderr).toContain(`cannot reach Temporal at ${cluster.temporal.address} (TLS)`);
  expect(stranger.stderr).toContain('The server refused our client certificate');
  expect(plain.code).toBe(1);
  expect(plain.stderr).toContain(`cannot reach Temporal at ${cluster.temporal.address}: `);
  expect(plain.stderr).toContain('The server speaks TLS: set TEMPORAL_TLS=true');
  // The same with our certificate works.
  expect(await ct(tlsEnv('ours'), configPath, ...args)).toMatchObject({ code: 0 });
  // The worker without a certificate stops at start with the same words.
  await expect(
    startWorkerProcess({
      taskQueue: uniqueId('tls-refused'),
      address: cluster.temporal.address,
      namespace: NAMESPACE,
      configPath,
      env: tlsEnv('none'),
    }),
  ).rejects.toThrow(/The server requires a client certificate \(mTLS\): set TEMPORAL_TLS_CLIENT_CERT_PATH/);
});

test('TLS settings are parsed once, with the setting named: a certificate without its key, a file that is not there, TEMPORAL_TLS=yes; an API key implies TLS', () => {
  const parse = (env: Record<string, string>) => () => temporalConnectConfig(loadTemporalEnv(env), env);
  expect(parse({ TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert })).toThrow(
    /TEMPORAL_TLS_CLIENT_KEY_PATH .*: a client certificate and its key go together/,
  );
  expect(parse({ ...tlsEnv('ours'), TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.pem' })).toThrow(
    /TEMPORAL_TLS_SERVER_CA_CERT_PATH .*: names no file/,
  );
  expect(parse({ TEMPORAL_TLS: 'yes' })).toThrow(/TEMPORAL_TLS: must be true, false, 1 or 0/);
  expect(parse({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' })).toThrow(/TEMPORAL_TLS_SERVER_NAME/);
  // An API key (Temporal Cloud's other way) implies TLS; the profile's key works the same.
  expect(parse({ TEMPORAL_API_KEY: 'a-key' })().options).toMatchObject({ apiKey: 'a-key', tls: true });
  const profile = path.join(certs.dir, 'api-key.toml');
  writeFileSync(profile, '[profile.cloud]\naddress = "ns.acct.tmprl.cloud:7233"\napi_key = "b-key"\n');
  expect(parse({ TEMPORAL_CONFIG_FILE: profile, TEMPORAL_PROFILE: 'cloud' })().options).toMatchObject({
    address: 'ns.acct.tmprl.cloud:7233',
    apiKey: 'b-key',
    tls: true,
  });
  const tls = parse(tlsEnv('ours'))().options.tls;
  expect(typeof tls === 'object' && tls?.clientCertPair !== undefined).toBe(true);
});
