import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

// Who may ask for a retrain: whoever holds the receiver's token. Cloud Monitoring's webhook channels
// carry it one of two ways — basic auth (webhook_basicauth: the token is the password) or in the
// URL (webhook_tokenauth: `?token=…`); other callers may send `Authorization: Bearer …`.

/** The token the request presents, and how; undefined when it presents none. */
export function presentedToken(req: IncomingMessage, url: URL): { token: string; how: string } | undefined {
  const header = req.headers.authorization ?? '';
  const basic = /^Basic\s+(\S+)$/i.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return { token: colon < 0 ? '' : decoded.slice(colon + 1), how: 'basic auth' };
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer) return { token: bearer[1]!, how: 'bearer token' };
  const inUrl = url.searchParams.get('token');
  return inUrl === null ? undefined : { token: inUrl, how: 'token in the URL' };
}

/**
 * Compares in constant time: both sides are hashed first, so neither the length of the token nor
 * the first byte that differs shows in how long a refusal takes.
 */
export function tokenMatches(given: string, token: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(token));
}
