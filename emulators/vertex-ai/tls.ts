import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';

// A local certificate authority and a server certificate it signs, so Google's clients can reach
// the emulator over TLS as they reach Vertex: they verify the chain against the CA file they are
// told to trust (GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, or the client's own root-certificate option).
// The CA is kept in its folder and reused, so a developer trusts one file across restarts.

/** Names the server certificate is valid for: loopback, and Vertex's own hosts (for the CONNECT proxy). */
export const SERVER_NAMES = ['localhost', 'aiplatform.googleapis.com', '*.googleapis.com'];
const SERVER_IPS = ['127.0.0.1', '::1'];
// Renewed this long before it would expire, so a long-lived folder never serves a dead cert.
const RENEW_BEFORE_MS = 7 * 24 * 3600_000;
const VALID_DAYS = 825;

export interface TlsMaterial {
  /** The CA certificate (PEM) clients trust. */
  caCertPath: string;
  caCert: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
}

/** The CA certificate clients are told to trust, in a TLS folder. */
export const caCertPath = (dir: string) => path.join(dir, 'ca.pem');

const files = (dir: string) => ({
  caCert: caCertPath(dir),
  caKey: path.join(dir, 'ca-key.pem'),
  serverCert: path.join(dir, 'server.pem'),
  serverKey: path.join(dir, 'server-key.pem'),
});

function usable(certFile: string, caFile: string): boolean {
  if (!existsSync(certFile) || !existsSync(caFile)) return false;
  try {
    const cert = new X509Certificate(readFileSync(certFile));
    const ca = new X509Certificate(readFileSync(caFile));
    const names = SERVER_NAMES.every((n) => cert.subjectAltName?.includes(`DNS:${n}`));
    return (
      names &&
      cert.checkIssued(ca) &&
      cert.verify(ca.publicKey) &&
      Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_MS
    );
  } catch {
    return false;
  }
}

/** The CA and server certificate in `dir`, made (or renewed) when missing, broken or near expiry. */
export async function ensureTlsMaterial(dir: string): Promise<TlsMaterial> {
  const f = files(dir);
  if (!usable(f.serverCert, f.caCert)) {
    mkdirSync(dir, { recursive: true });
    const notAfterDate = new Date(Date.now() + VALID_DAYS * 24 * 3600_000);
    const ca = await generate([{ name: 'commonName', value: 'ct-coordinator Vertex AI emulator local CA' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      notAfterDate,
      extensions: [
        { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ],
    });
    const server = await generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      notAfterDate,
      ca: { key: ca.private, cert: ca.cert },
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            ...SERVER_NAMES.map((value) => ({ type: 2 as const, value })),
            ...SERVER_IPS.map((ip) => ({ type: 7 as const, ip })),
          ],
        },
      ],
    });
    writeFileSync(f.caKey, ca.private, { mode: 0o600 });
    writeFileSync(f.serverKey, server.private, { mode: 0o600 });
    writeFileSync(f.caCert, ca.cert);
    writeFileSync(f.serverCert, server.cert);
  }
  return {
    caCertPath: f.caCert,
    caCert: readFileSync(f.caCert),
    serverCert: readFileSync(f.serverCert),
    serverKey: readFileSync(f.serverKey),
  };
}
