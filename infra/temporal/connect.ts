import type { TemporalConnectionOptions } from '../../config/temporal';
import { diagnoseTls } from './diagnose-tls';

export class TemporalUnreachable extends Error {
  override name = 'TemporalUnreachable';
}

/**
 * Connects (Connection for clients, NativeConnection for workers) and, when the server cannot be
 * reached, says where it looked and how to point elsewhere: the SDK's own message ("Failed to
 * connect before the deadline", a tonic transport error) names neither. When TLS is why (no
 * client certificate, a refused one, a server speaking TLS to a plain-text client), it says so.
 */
export async function connectTo<C>(
  options: TemporalConnectionOptions,
  connect: (o: TemporalConnectionOptions) => Promise<C>,
): Promise<C> {
  try {
    return await connect(options);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const tlsProblem = await diagnoseTls(options).catch(() => undefined);
    throw new TemporalUnreachable(
      `cannot reach Temporal at ${options.address}${options.tls ? ' (TLS)' : ''}: ${reason}. ` +
        (tlsProblem ??
          'Is the server up? Point TEMPORAL_ADDRESS (or a TEMPORAL_PROFILE in the envconfig file) at it; ' +
            '`npm run dev` starts one on 127.0.0.1:7233.'),
      { cause: err },
    );
  }
}
