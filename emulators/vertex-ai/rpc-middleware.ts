import * as grpc from '@grpc/grpc-js';
import type { CallLogEntry } from './control-schema';
import { RpcError } from './errors';
import type { CallContext } from './job-repository';
import type { AuthKind, TokenIssuer } from './oauth';
import { CallPolicy } from './policy';
import type { Store, StoredFault } from './store';

// How every Vertex RPC is served: a chain of middlewares, each with one role, in front of the
// handler that implements the RPC (identify the caller → log → latency → errors → quota → faults).

/**
 * What implements one RPC: the request in, the response (or a promise of it) out; a Vertex error is
 * a thrown (or rejected) RpcError.
 */
export type RpcHandler = (req: Record<string, unknown>, ctx: CallContext) => unknown;

/** One RPC on its way through the middlewares. */
export interface ServedCall {
  readonly method: string;
  readonly request: Record<string, unknown>;
  readonly metadata: grpc.Metadata;
  readonly arrivedAt: number;
  /** The project the request is about, as the client named it (for scoped faults and quotas). */
  readonly project: string | undefined;
  /** The region (location) the request names: Vertex's quotas are per project and region. */
  readonly region: string | undefined;
  readonly auth?: AuthKind;
  readonly context: CallContext;
  /** Sends the answer to the client. */
  respond(err: RpcError | null, res?: unknown): void;
}

/** Does its one thing, then passes the call on with `next` (changed, later, or not at all). */
export type Middleware = (call: ServedCall, next: (call: ServedCall) => void) => void;

const MAX_LOG = 10_000;

/** The request's parent or name; Predict, DeployModel and UpdateEndpoint name their endpoint instead. */
function scopeOf(req: Record<string, unknown>): { project: string | undefined; region: string | undefined } {
  const endpoint = req.endpoint as string | { name?: unknown } | undefined;
  const name = req.parent ?? req.name ?? (typeof endpoint === 'string' ? endpoint : endpoint?.name);
  const m = typeof name === 'string' ? /^projects\/([^/]+)(?:\/locations\/([^/]+))?/.exec(name) : null;
  return { project: m?.[1], region: m?.[2] };
}

/** A gRPC unary call as a ServedCall whose answer goes back through gRPC's callback. */
export function servedCall(
  method: string,
  call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>,
  callback: grpc.sendUnaryData<unknown>,
): ServedCall {
  return {
    method,
    request: call.request,
    metadata: call.metadata,
    arrivedAt: Date.now(),
    ...scopeOf(call.request),
    context: {},
    respond(err, res) {
      if (err)
        callback({
          code: err.code,
          details: err.message,
          metadata: err.metadata,
          name: 'RpcError',
          message: err.message,
        });
      else callback(null, res);
    },
  };
}

/** The middlewares in order, then the handler: one function that serves a call. */
export function chain(middlewares: Middleware[], handler: RpcHandler): (call: ServedCall) => void {
  const runHandler = (call: ServedCall) => {
    const out = handler(call.request, call.context);
    if (!(out instanceof Promise)) return call.respond(null, out);
    out.then(
      (res: unknown) => call.respond(null, res),
      (err: unknown) => call.respond(asRpcError(err)),
    );
  };
  return middlewares.reduceRight<(call: ServedCall) => void>((next, mw) => (call) => mw(call, next), runHandler);
}

/** How the call authenticated (the call log records it; the emulator refuses nobody). */
export const identifyCaller =
  (tokens: TokenIssuer): Middleware =>
  (call, next) =>
    next({ ...call, auth: tokens.classify(call.metadata.get('authorization')[0]?.toString()) });

function appendToCallLog(store: Store, entry: Omit<CallLogEntry, 'seq'>): void {
  store.calls.push({ seq: ++store.callSeq, ...entry });
  store.callCounts[entry.method] = (store.callCounts[entry.method] ?? 0) + 1;
  if (store.calls.length > MAX_LOG) store.calls.splice(0, store.calls.length - MAX_LOG);
}

/** Every answer reaches the call log (the control API's GET /calls) before the client. */
export const logCall =
  (store: Store): Middleware =>
  (call, next) =>
    next({
      ...call,
      respond(err, res) {
        appendToCallLog(store, {
          time: new Date(call.arrivedAt).toISOString(),
          method: call.method,
          request: call.request,
          code: err ? err.code : grpc.status.OK,
          codeName: grpc.status[err ? err.code : grpc.status.OK],
          message: err?.message,
          durationMs: Date.now() - call.arrivedAt,
          auth: call.auth,
        });
        call.respond(err, res);
      },
    });

/** The latency the settings add to this method, before anything else happens. */
export const addLatency =
  (policy: CallPolicy): Middleware =>
  (call, next) => {
    const delay = policy.latency(call.method);
    // Held until the wall clock (the call log's durationMs) has moved on by `delay`: Node's timers
    // run on a monotonic millisecond clock and can fire a millisecond short of it.
    const hold = () => {
      const left = call.arrivedAt + delay - Date.now();
      if (left > 0) setTimeout(hold, left);
      else next(call);
    };
    if (delay > 0) hold();
    else next(call);
  };

const asRpcError = (err: unknown) =>
  err instanceof RpcError ? err : new RpcError(grpc.status.INTERNAL, `emulator bug: ${String(err)}`);

/** A thrown RpcError is the answer; anything else thrown is an emulator bug, answered INTERNAL. */
export const answerErrors: Middleware = (call, next) => {
  try {
    next(call);
  } catch (err) {
    call.respond(asRpcError(err));
  }
};

/** RESOURCE_EXHAUSTED, as Vertex words it, once the project's region is over its per-minute quota. */
export const enforceQuota =
  (policy: CallPolicy): Middleware =>
  (call, next) => {
    policy.checkQuota(call.method, call.project, call.region);
    next(call);
  };

/** The fault scripted for this call through the control API, if any (docs/vertex-emulator.md). */
export const injectFaults =
  (policy: CallPolicy): Middleware =>
  (call, next) => {
    const fault = policy.takeFault(call.method, call.project);
    if (!fault) return next(call);
    switch (fault.mode) {
      case 'reject':
        throw CallPolicy.errorFor(fault);
      case 'commit-late':
        return commitLate(fault, call, next);
      case 'stale-list':
        return next({ ...call, context: { createdBefore: Date.now() - fault.lagMs! } });
      case 'delay':
      case 'lose-response':
        return next({ ...call, respond: (err, res) => answerLateOrLost(fault, call, err, res) });
    }
  };

/** The caller hears the error first; the call's effect lands after it has given up. */
function commitLate(fault: StoredFault, call: ServedCall, next: (call: ServedCall) => void): void {
  setTimeout(() => call.respond(CallPolicy.errorFor(fault)), fault.delayMs ?? 0);
  setTimeout(() => {
    try {
      next({ ...call, respond: () => undefined });
    } catch {
      // A late commit that fails validation simply never happens.
    }
  }, fault.commitAfterMs);
}

/**
 * The call took effect; its answer is held back (delay), or replaced by the fault's error ("created
 * but the answer lost": the effect stays, the caller sees only the error).
 */
function answerLateOrLost(fault: StoredFault, call: ServedCall, err: RpcError | null, res: unknown): void {
  const answer = () => (fault.mode === 'delay' ? call.respond(err, res) : call.respond(CallPolicy.errorFor(fault)));
  if (fault.delayMs) setTimeout(answer, fault.delayMs);
  else answer();
}
