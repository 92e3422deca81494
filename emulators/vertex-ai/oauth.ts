import { randomBytes } from 'node:crypto';
import { z } from 'zod';

// A local OAuth2 token endpoint, so Google's auth libraries configured the ordinary way (a
// service-account key file or an authorized-user ADC file whose token_uri points here) get an
// access token without leaving the machine. The emulator checks shapes, not signatures: it proves
// the client did the token dance, not who the client is.

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const TOKEN_PREFIX = 'ya29.vertex-emulator.';
const TOKEN_LIFETIME_S = 3600;

/** How a gRPC call authenticated, as the call log records it. */
export type AuthKind = 'none' | 'emulator-token' | 'self-signed-jwt' | 'unknown-token';

// RFC 7523 §3: the claims a JWT-bearer assertion must carry (google-auth also sends `scope`).
const AssertionClaims = z.object({
  iss: z.string().min(1),
  aud: z.string().min(1),
  exp: z.number(),
  iat: z.number(),
  scope: z.string().optional(),
  target_audience: z.string().optional(),
});

const Grant = z.discriminatedUnion('grant_type', [
  z.object({ grant_type: z.literal(JWT_BEARER), assertion: z.string().min(1) }),
  z.object({ grant_type: z.literal('refresh_token'), refresh_token: z.string().min(1), client_id: z.string().min(1) }),
]);

export interface TokenResponse {
  status: number;
  body: Record<string, unknown>;
}

function jwtClaims(token: string): unknown {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

const oauthError = (error: string, description: string): TokenResponse => ({
  status: 400,
  body: { error, error_description: description },
});

export class TokenIssuer {
  private readonly issued = new Map<string, { subject: string; expiresAt: number }>();

  /** Answers a token request (form fields as the client posted them), as RFC 6749 §5 says. */
  grant(form: Record<string, string>): TokenResponse {
    const parsed = Grant.safeParse(form);
    if (!parsed.success) {
      const type = form.grant_type;
      if (type !== JWT_BEARER && type !== 'refresh_token')
        return oauthError(
          'unsupported_grant_type',
          `grant_type must be "${JWT_BEARER}" or "refresh_token", got ${JSON.stringify(type ?? '')}.`,
        );
      return oauthError('invalid_request', z.prettifyError(parsed.error));
    }
    let subject: string;
    if (parsed.data.grant_type === JWT_BEARER) {
      const claims = AssertionClaims.safeParse(jwtClaims(parsed.data.assertion));
      if (!claims.success)
        return oauthError(
          'invalid_grant',
          `the assertion is not a JWT with iss, aud, iat and exp: ${z.prettifyError(claims.error)}`,
        );
      if (claims.data.exp * 1000 < Date.now())
        return oauthError(
          'invalid_grant',
          'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.',
        );
      subject = claims.data.iss;
    } else {
      subject = `refresh:${parsed.data.client_id}`;
    }
    const token = `${TOKEN_PREFIX}${randomBytes(24).toString('base64url')}`;
    this.issued.set(token, { subject, expiresAt: Date.now() + TOKEN_LIFETIME_S * 1000 });
    return { status: 200, body: { access_token: token, expires_in: TOKEN_LIFETIME_S, token_type: 'Bearer' } };
  }

  /** What a call's `authorization` metadata shows: our token, a self-signed JWT, something else, or nothing. */
  classify(authorization: string | undefined): AuthKind {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) return 'none';
    const mine = this.issued.get(token);
    if (mine && mine.expiresAt > Date.now()) return 'emulator-token';
    // Google's clients sign a JWT with the service-account key and send it as the token itself
    // (always_use_jwt_access) instead of asking a token endpoint.
    return AssertionClaims.pick({ iss: true, exp: true }).safeParse(jwtClaims(token)).success
      ? 'self-signed-jwt'
      : 'unknown-token';
  }
}
