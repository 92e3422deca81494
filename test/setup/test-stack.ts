import { z } from 'zod';

// What the jest global setup started, passed to the test workers through the environment
// (jest spawns its workers after global setup, so they inherit process.env).
export const TestStackEnv = z.object({
  CT_TEST_TEMPORAL_ADDRESS: z.string().min(1),
  CT_TEST_TEMPORAL_HTTP_URL: z.url(),
  CT_TEST_TEMPORAL_METRICS_URL: z.url(),
  CT_TEST_NAMESPACE: z.string().min(1),
  CT_TEST_GCS_ENDPOINT: z.url(),
  CT_TEST_GCS_BUCKET: z.string().min(1),
  CT_TEST_PROJECT: z.string().min(1),
  CT_TEST_VERTEX_HOST: z.string().min(1),
  CT_TEST_VERTEX_PORT: z.coerce.number().int(),
  CT_TEST_VERTEX_CONTROL_URL: z.url(),
  /** host:port of Cloud Monitoring (the Vertex emulator's gRPC port): a worker's MONITORING_API_ENDPOINT. */
  CT_TEST_MONITORING_ENDPOINT: z.string().regex(/^[^:/]+:[0-9]+$/),
  CT_TEST_WORKFLOW_BUNDLE: z.string().min(1),
  CT_TEST_TMP_DIR: z.string().min(1),
});
export type TestStackEnv = z.output<typeof TestStackEnv>;
type TestStackEnvVars = { [K in keyof TestStackEnv]: string };

let cached: TestStackEnv | undefined;

export type { TestStackEnvVars };

export function testStack(): TestStackEnv {
  if (cached) return cached;
  const parsed = TestStackEnv.safeParse(process.env);
  if (!parsed.success) {
    throw new Error(
      `the test stack is not running (run tests through jest's global setup):\n${z.prettifyError(parsed.error)}`,
    );
  }
  cached = parsed.data;
  return cached;
}
