import { isDeepStrictEqual } from 'node:util';
import type { VertexClientFactory } from '../../infra/vertex/clients';
import { jsonToValue, valueToJson } from '../../infra/vertex/values';
import { vertexFailure } from '../vertex/errors';

// The golden set, predicted before the candidate gets any traffic. Vertex's Predict always follows
// the endpoint's split (a model at 0 % cannot be asked), so the smoke runs on an endpoint of its
// own where the candidate is alone (workflows/model-rollout.ts deploys it there first).

export interface SmokeResult {
  passed: boolean;
  /** Each instance whose prediction differed, with what came back. */
  mismatches: { index: number; expected: unknown; got: unknown }[];
  deployedModelId?: string;
}

function close(expected: unknown, got: unknown, tolerance: number): boolean {
  if (typeof expected === 'number' && typeof got === 'number') return Math.abs(expected - got) <= tolerance;
  if (Array.isArray(expected) && Array.isArray(got))
    return expected.length === got.length && expected.every((e, i) => close(e, got[i], tolerance));
  if (expected && got && typeof expected === 'object' && typeof got === 'object') {
    const [a, b] = [expected as Record<string, unknown>, got as Record<string, unknown>];
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => close(a[k], b[k], tolerance));
  }
  return isDeepStrictEqual(expected, got);
}

export function createSmokeActivity(deps: { vertex: VertexClientFactory }) {
  return async function smokePredict(req: {
    region: string;
    endpoint: string;
    instances: unknown[];
    expected: unknown[];
    tolerance: number;
  }): Promise<SmokeResult> {
    const [res] = await deps
      .vertex(req.region)
      .predictions.predict({ endpoint: req.endpoint, instances: req.instances.map(jsonToValue) })
      .catch((err: unknown) => {
        throw vertexFailure(err, `the smoke prediction on ${req.endpoint}`);
      });
    const got = (res.predictions ?? []).map(valueToJson);
    const mismatches = req.expected.flatMap((expected, index) =>
      close(expected, got[index], req.tolerance) ? [] : [{ index, expected, got: got[index] }],
    );
    return { passed: mismatches.length === 0, mismatches, deployedModelId: res.deployedModelId ?? undefined };
  };
}
