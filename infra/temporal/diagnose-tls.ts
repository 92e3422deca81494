import net from 'node:net';
import tls from 'node:tls';
import type { TemporalConnectionOptions } from '../../config/temporal';

// Why a connection failed, when TLS is why. Both SDK clients hide it: grpc-js reports "Failed to
// connect before the deadline" whether the server wanted a client certificate, refused ours, or
// spoke TLS to a plain-text client. One TLS handshake of our own, with the same settings, tells.

const CERT_REQUIRED = /CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|alert number (116|40)\b/i;
const CERT_REFUSED =
  /UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|alert number (42|43|46|48)\b/i;
const SERVER_UNTRUSTED = /CERT|SELF_SIGNED|VERIFY|ALTNAME/i;

const CLIENT_CERT_SETTINGS =
  "set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or the profile's tls.client_cert_path and tls.client_key_path)";

/** A sentence naming the TLS problem and the settings that answer it; undefined when TLS is not the problem. */
export async function diagnoseTls(options: TemporalConnectionOptions, timeoutMs = 3_000): Promise<string | undefined> {
  const i = options.address.lastIndexOf(':');
  const host = options.address.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(options.address.slice(i + 1));
  const t = typeof options.tls === 'object' && options.tls !== null ? options.tls : undefined;
  const servername = t?.serverNameOverride ?? (net.isIP(host) ? undefined : host);
  const outcome = await new Promise<{ secure: boolean; error?: NodeJS.ErrnoException }>((resolve) => {
    const socket = tls.connect({
      host,
      port,
      servername,
      ALPNProtocols: ['h2'],
      ca: t?.serverRootCACertificate ? Buffer.from(t.serverRootCACertificate) : undefined,
      cert: t?.clientCertPair ? Buffer.from(t.clientCertPair.crt) : undefined,
      key: t?.clientCertPair ? Buffer.from(t.clientCertPair.key) : undefined,
      // A plain-text client asks only whether the server speaks TLS at all.
      rejectUnauthorized: Boolean(options.tls),
    });
    let secure = false;
    const done = (error?: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ secure, error });
    };
    // In TLS 1.3 the server judges the client's certificate after the client has finished: wait for its alert.
    socket.once('secureConnect', () => {
      secure = true;
      setTimeout(() => done(), 500).unref();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => done(err));
    socket.once('close', () => done());
    const timer = setTimeout(() => done(), timeoutMs);
  });
  const reason = `${outcome.error?.code ?? ''} ${outcome.error?.message ?? ''}`;
  if (!options.tls) {
    // A completed handshake, or an alert the server sent (not a plain-text reply to our hello).
    return outcome.secure || /_ALERT_|alert number/i.test(reason)
      ? 'The server speaks TLS: set TEMPORAL_TLS=true (and TEMPORAL_TLS_SERVER_CA_CERT_PATH for a private CA, and a client certificate if it asks for one).'
      : undefined;
  }
  if (!outcome.secure && /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST|before secure TLS/i.test(reason)) {
    return 'The server does not speak TLS on this port: drop TEMPORAL_TLS and the TLS settings, or check the address.';
  }
  if (options.apiKey === undefined && !t?.clientCertPair && CERT_REQUIRED.test(reason)) {
    return `The server requires a client certificate (mTLS): ${CLIENT_CERT_SETTINGS}, or TEMPORAL_API_KEY.`;
  }
  if (t?.clientCertPair && (CERT_REFUSED.test(reason) || CERT_REQUIRED.test(reason))) {
    return `The server refused our client certificate (${outcome.error?.code ?? 'TLS alert'}): is it signed by a CA the server trusts, and not expired?`;
  }
  if (
    outcome.error &&
    !/ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH/.test(reason) &&
    SERVER_UNTRUSTED.test(reason)
  ) {
    return (
      `The server's certificate is not trusted (${outcome.error.code ?? outcome.error.message}): set ` +
      'TEMPORAL_TLS_SERVER_CA_CERT_PATH to its CA, and TEMPORAL_TLS_SERVER_NAME to a name in it.'
    );
  }
  return undefined;
}
