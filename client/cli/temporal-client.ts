import { Client, Connection } from '@temporalio/client';
import { loadTemporalEnv } from '../../config/env';
import type { PipelineConfig } from '../../config/pipeline-config';
import { temporalConnectConfig } from '../../config/temporal';
import { connectTo } from '../../infra/temporal/connect';

/** A client of the environment's namespace for the length of `fn`; the connection is closed after. */
export async function withClient<T>(
  config: PipelineConfig,
  environment: string,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const connect = temporalConnectConfig(loadTemporalEnv());
  // Each environment names its own namespace in the config (staging and production apart).
  const namespace =
    Object.values(config.pipelines).find((p) => p.environments[environment])?.environments[environment]?.temporal
      .namespace ?? connect.namespace;
  const connection = await connectTo(connect.options, (o) => Connection.connect(o));
  try {
    return await fn(new Client({ connection, namespace }));
  } finally {
    await connection.close();
  }
}
