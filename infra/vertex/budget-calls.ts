import { status } from '@grpc/grpc-js';
import { isVertexRpc } from './call-metrics';
import type { BudgetBucket, VertexBudget } from './budget';

// Puts every Vertex RPC of a client through the worker's budget (vertex-budget.ts), at the one
// place clients are made (infra/vertex/clients.ts), so watches of both kinds, submits, cancels and the
// Model Registry share it without knowing. The project and region come from the request's
// `parent` or `name` (or the `endpoint` an endpoint call names); the bucket from the method:
// submissions (create*, uploadModel, delete*, deployModel, undeployModel: the jobs and long-running
// operations Vertex's "Job or LRO submission requests" quota counts) or reads (every other call,
// cancels and alias moves included, count as "Resource management (CRUD) requests"; so does polling
// an operation, which google-gax does past the client's methods). Predict is not a call-metrics RPC
// (call-metrics.ts): online prediction has its own, much larger, quota.

const SUBMISSION = /^(create|upload|delete|deploy|undeploy)[A-Z]/;

export const bucketOf = (method: string): BudgetBucket => (SUBMISSION.test(method) ? 'create' : 'read');

const located = /^projects\/([^/]+)\/locations\/([^/]+)/;

function whereOf(request: unknown): { project: string; region: string } | undefined {
  const r = request as { parent?: unknown; name?: unknown; endpoint?: unknown } | null | undefined;
  const endpoint = typeof r?.endpoint === 'string' ? r.endpoint : (r?.endpoint as { name?: unknown } | null)?.name;
  const name = typeof r?.parent === 'string' ? r.parent : (r?.name ?? endpoint);
  const m = typeof name === 'string' ? located.exec(name) : null;
  return m ? { project: m[1]!, region: m[2]! } : undefined;
}

const exhausted = (err: unknown) => (err as { code?: unknown } | null)?.code === status.RESOURCE_EXHAUSTED;

type Where = { project: string; region: string };

/** Vertex answers with project numbers: learn which number the request's project id is. */
function learnProject(budget: VertexBudget, where: Where, result: unknown) {
  const first = Array.isArray(result) ? (result[0] as unknown) : undefined;
  const resource = (Array.isArray(first) ? (first[0] as unknown) : first) as { name?: unknown } | undefined;
  const m = typeof resource?.name === 'string' ? located.exec(resource.name) : null;
  if (m && m[1] !== where.project) budget.sameProject(where.project, m[1]!);
}

async function budgeted<R>(budget: VertexBudget, where: Where, bucket: BudgetBucket, call: () => Promise<R>) {
  await budget.take(where.project, where.region, bucket);
  try {
    const result = await call();
    learnProject(budget, where, result);
    return result;
  } catch (err) {
    if (exhausted(err)) budget.resourceExhausted(where.project, where.region, bucket);
    throw err;
  }
}

type OperationsClient = { getOperationInternal?: (request: unknown, options?: unknown, callback?: unknown) => unknown };

/** An operation's `promise()` polls GetOperation through the client's operations client, not its methods. */
function budgetOperationPolls(client: object, budget: VertexBudget) {
  const ops = (client as { operationsClient?: OperationsClient }).operationsClient;
  const original = ops?.getOperationInternal?.bind(ops);
  if (!ops || !original) return;
  ops.getOperationInternal = (request, options, callback) => {
    const where = whereOf(request);
    if (callback !== undefined || !where) return original(request, options, callback);
    let inner: { cancel?: () => void } | undefined;
    const polled = budgeted(budget, where, 'read', () => {
      inner = original(request, options) as typeof inner;
      return inner as unknown as Promise<unknown>;
    });
    // google-gax cancels an operation's current poll through the promise it was handed.
    return Object.assign(polled, { cancel: () => inner?.cancel?.() });
  };
}

export function budgetVertexCalls<T extends object>(client: T, budget: VertexBudget): T {
  budgetOperationPolls(client, budget);
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || typeof value !== 'function' || !isVertexRpc(prop)) return value;
      const fn = value as (...a: unknown[]) => Promise<unknown>;
      const bucket = bucketOf(prop);
      return (...args: unknown[]) => {
        const where = whereOf(args[0]);
        // A call on no project and region (getProjectId, a callback-style call) is not Vertex's to count.
        if (!where || typeof args.at(-1) === 'function') return fn.apply(target, args);
        return budgeted(budget, where, bucket, () => fn.apply(target, args));
      };
    },
  });
}
