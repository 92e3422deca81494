// Vertex's quotas are "per minute per region": each region of a project has its own CRUD and
// submission budgets, so a project's jobs spread over regions may read and create in each at the
// full quota (the worker's budget keys the same way: infra/vertex/budget.ts).
import { CallPolicy } from '../../emulators/vertex-ai/policy';
import { Store } from '../../emulators/vertex-ai/store';

function limitedPolicy() {
  const store = new Store();
  store.state.settings.quota = { enabled: true, crudPerMinute: 2, createsPerMinute: 1 };
  return new CallPolicy(store);
}

test("a project's regions each have the whole quota; a region is refused only over its own", () => {
  const policy = limitedPolicy();
  for (const region of ['us-central1', 'europe-west4', 'asia-northeast1']) {
    policy.checkQuota('ListBatchPredictionJobs', 'ct-quota-regions', region);
    policy.checkQuota('GetBatchPredictionJob', 'ct-quota-regions', region);
    policy.checkQuota('CreateBatchPredictionJob', 'ct-quota-regions', region);
  }
  expect(() => policy.checkQuota('ListBatchPredictionJobs', 'ct-quota-regions', 'europe-west4')).toThrow(
    /Resource management \(CRUD\) requests per minute per region/,
  );
  expect(() => policy.checkQuota('CreateBatchPredictionJob', 'ct-quota-regions', 'asia-northeast1')).toThrow(
    /Job or LRO submission requests per minute per region/,
  );
  // Another project in the same region is a consumer of its own.
  policy.checkQuota('ListBatchPredictionJobs', 'ct-quota-regions-2', 'europe-west4');
});
