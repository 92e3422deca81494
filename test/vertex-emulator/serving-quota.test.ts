// Which quota the serving methods spend, on both sides: the emulator's per-minute quotas
// (emulators/vertex-ai/policy.ts) and the worker's budget (infra/vertex/budget-calls.ts).
// DeployModel and UndeployModel are "Job or LRO submission requests"; Predict and Monitoring's
// ListTimeSeries have quotas of their own and spend neither.
import { CallPolicy } from '../../emulators/vertex-ai/policy';
import { Store } from '../../emulators/vertex-ai/store';
import { bucketOf } from '../../infra/vertex/budget-calls';
import { isVertexRpc } from '../../infra/vertex/call-metrics';

function limitedPolicy() {
  const store = new Store();
  store.state.settings.quota = { enabled: true, crudPerMinute: 1, createsPerMinute: 1 };
  return new CallPolicy(store);
}

test('the emulator counts DeployModel and UndeployModel against the submission quota', () => {
  const policy = limitedPolicy();
  policy.checkQuota('DeployModel', 'ct-serving-quota', 'us-central1');
  expect(() => policy.checkQuota('UndeployModel', 'ct-serving-quota', 'us-central1')).toThrow(
    /Job or LRO submission requests/,
  );
  policy.checkQuota('GetEndpoint', 'ct-serving-quota', 'us-central1');
  expect(() => policy.checkQuota('ListEndpoints', 'ct-serving-quota', 'us-central1')).toThrow(
    /Resource management \(CRUD\)/,
  );
});

test('Predict and ListTimeSeries spend neither of Vertex quotas', () => {
  const policy = limitedPolicy();
  for (let i = 0; i < 5; i++) {
    policy.checkQuota('Predict', 'ct-serving-quota', 'us-central1');
    policy.checkQuota('ListTimeSeries', 'ct-serving-quota', 'us-central1');
  }
  policy.checkQuota('GetEndpoint', 'ct-serving-quota', 'us-central1');
  policy.checkQuota('DeployModel', 'ct-serving-quota', 'us-central1');
});

test("the worker's budget takes deploys from the create bucket and leaves Predict alone", () => {
  expect(bucketOf('deployModel')).toBe('create');
  expect(bucketOf('undeployModel')).toBe('create');
  expect(bucketOf('createEndpoint')).toBe('create');
  expect(bucketOf('getEndpoint')).toBe('read');
  expect(bucketOf('updateEndpoint')).toBe('read');
  expect(isVertexRpc('deployModel')).toBe(true);
  expect(isVertexRpc('predict')).toBe(false);
});
