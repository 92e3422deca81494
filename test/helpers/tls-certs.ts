import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Certificates for a Temporal server with mTLS, made with openssl as a platform team would: a CA,
// a server certificate for 127.0.0.1 and localhost (also a client certificate: the server's own
// system worker presents it to its frontend), and a client certificate for workers and ct.

export interface TestCerts {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate from a CA the server does not trust. */
  strangerCert: string;
  strangerKey: string;
}

const openssl = (dir: string, ...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function ca(dir: string, name: string): void {
  openssl(
    dir,
    'req',
    '-x509',
    ...EC,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
  );
}

function leaf(dir: string, name: string, signer: string, ext: string): void {
  writeFileSync(path.join(dir, `${name}.ext`), `${ext}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n`);
  openssl(dir, 'req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${signer}.pem`,
    '-CAkey',
    `${signer}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  );
}

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-tls-'));
  ca(dir, 'ct-test-ca');
  leaf(
    dir,
    'temporal',
    'ct-test-ca',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth',
  );
  leaf(dir, 'ct-worker', 'ct-test-ca', 'extendedKeyUsage=clientAuth');
  ca(dir, 'stranger-ca');
  leaf(dir, 'stranger', 'stranger-ca', 'extendedKeyUsage=clientAuth');
  const f = (name: string) => path.join(dir, name);
  return {
    dir,
    caCert: f('ct-test-ca.pem'),
    serverCert: f('temporal.pem'),
    serverKey: f('temporal.key'),
    clientCert: f('ct-worker.pem'),
    clientKey: f('ct-worker.key'),
    strangerCert: f('stranger.pem'),
    strangerKey: f('stranger.key'),
  };
}
