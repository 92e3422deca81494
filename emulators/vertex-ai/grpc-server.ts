import * as grpc from '@grpc/grpc-js';
import type { Storage } from '@google-cloud/storage';
import type { CallLogEntry } from './control-schema';
import { RpcError } from './errors';
import { jobService } from './job-service';
import { type CallContext, JobRepository } from './job-repository';
import { JobEngine } from './lifecycle';
import { ModelRegistry } from './model-registry';
import { TokenIssuer } from './oauth';
import { GcsOutputWriter } from './outputs';
import { pipelineService } from './pipeline-service';
import { CallPolicy } from './policy';
import { loadServiceDefinitions } from './protos';
import { Store } from './store';
import type { TlsMaterial } from './tls';

type Handler = (req: Record<string, unknown>, ctx: CallContext) => unknown;

const MAX_LOG = 10_000;

/** The project a request is about, as the client named it (for scoped faults and quotas). */
function projectOf(req: Record<string, unknown>): string | undefined {
  const name = (req.parent ?? req.name) as string | undefined;
  return typeof name === 'string' ? /^projects\/([^/]+)/.exec(name)?.[1] : undefined;
}

export interface Emulator {
  store: Store;
  engine: JobEngine;
  models: ModelRegistry;
  policy: CallPolicy;
  /** Access tokens the control API's token endpoint issued; calls are logged with how they authenticated. */
  tokens: TokenIssuer;
  grpcServer: grpc.Server;
  port: number;
  /** The same services over TLS, when asked for. */
  tlsPort?: number;
  /** Every RPC served (method names, as the call log records them). */
  methods: string[];
  stop(): Promise<void>;
}

export interface StartOptions {
  host?: string;
  port: number;
  storage: Storage;
  stateFile?: string;
  /** Also serve TLS on this port with this certificate (0 = any free port). */
  tls?: { port: number; material: TlsMaterial };
}

export async function startEmulator(opts: StartOptions): Promise<Emulator> {
  const store = new Store(opts.stateFile);
  const engine = new JobEngine(store, new GcsOutputWriter(opts.storage));
  const models = new ModelRegistry(store);
  const jobs = new JobRepository(store, engine);
  const policy = new CallPolicy(store);
  const tokens = new TokenIssuer();
  engine.onTick = () => Promise.resolve(models.completeDue());

  const defs = grpc.loadPackageDefinition(loadServiceDefinitions()) as unknown as Record<
    string,
    Record<string, Record<string, { service: grpc.ServiceDefinition }>>
  >;
  const v1 = (
    defs.google!.cloud as unknown as Record<string, Record<string, Record<string, { service: grpc.ServiceDefinition }>>>
  ).aiplatform!.v1!;
  const longrunning = defs.google!.longrunning as unknown as Record<string, { service: grpc.ServiceDefinition }>;

  const log = (entry: Omit<CallLogEntry, 'seq'>) => {
    store.calls.push({ seq: ++store.callSeq, ...entry });
    store.callCounts[entry.method] = (store.callCounts[entry.method] ?? 0) + 1;
    if (store.calls.length > MAX_LOG) store.calls.splice(0, store.calls.length - MAX_LOG);
  };

  const wrap = (method: string, handler: Handler): grpc.handleUnaryCall<Record<string, unknown>, unknown> => {
    return (call, callback) => {
      const started = Date.now();
      const req = call.request;
      const auth = tokens.classify(call.metadata.get('authorization')[0]?.toString());
      const finish = (err: RpcError | null, res?: unknown) => {
        log({
          time: new Date(started).toISOString(),
          method,
          request: req,
          code: err ? err.code : grpc.status.OK,
          codeName: grpc.status[err ? err.code : grpc.status.OK],
          message: err?.message,
          durationMs: Date.now() - started,
          auth,
        });
        if (err)
          callback({
            code: err.code,
            details: err.message,
            metadata: err.metadata,
            name: 'RpcError',
            message: err.message,
          });
        else callback(null, res);
      };
      const run = () => {
        try {
          const project = projectOf(req);
          policy.checkQuota(method, project);
          const fault = policy.takeFault(method, project);
          if (!fault) return finish(null, handler(req, {}));
          switch (fault.mode) {
            case 'reject':
              throw CallPolicy.errorFor(fault);
            case 'commit-late': {
              // The caller hears the error first; the call's effect lands after it has given up.
              setTimeout(() => finish(CallPolicy.errorFor(fault)), fault.delayMs ?? 0);
              setTimeout(() => {
                try {
                  handler(req, {});
                } catch {
                  // A late commit that fails validation simply never happens.
                }
              }, fault.commitAfterMs);
              return;
            }
            case 'stale-list': {
              const res = handler(req, { createdBefore: Date.now() - fault.lagMs! });
              return finish(null, res);
            }
            case 'delay':
            case 'lose-response': {
              const res = handler(req, {});
              // "Created but the answer lost": the effect stays, the caller sees only the error.
              const answer = () => (fault.mode === 'delay' ? finish(null, res) : finish(CallPolicy.errorFor(fault)));
              if (fault.delayMs) setTimeout(answer, fault.delayMs);
              else answer();
              return;
            }
          }
        } catch (err) {
          finish(err instanceof RpcError ? err : new RpcError(grpc.status.INTERNAL, `emulator bug: ${String(err)}`));
        }
      };
      const delay = policy.latency(method);
      if (delay > 0) setTimeout(run, delay);
      else run();
    };
  };

  const methods: string[] = [];
  const implement = (handlers: Record<string, Handler>) => {
    methods.push(...Object.keys(handlers));
    return Object.fromEntries(Object.entries(handlers).map(([m, h]) => [m, wrap(m, h)]));
  };

  const server = new grpc.Server();
  server.addService(v1.PipelineService!.service, implement(pipelineService(store, jobs)));
  server.addService(v1.JobService!.service, implement(jobService(store, jobs, models)));
  server.addService(
    v1.ModelService!.service,
    implement({
      UploadModel: (r) => models.upload(r),
      GetModel: (r) => models.get(r.name),
      ListModelVersions: (r) => models.listVersions(r),
      MergeVersionAliases: (r) => models.mergeVersionAliases(r),
    }),
  );
  server.addService(
    longrunning.Operations!.service,
    implement({
      GetOperation: (r) => models.getOperation(r.name),
      DeleteOperation: (r) => models.deleteOperation(r.name),
    }),
  );

  const bind = (port: number, creds: grpc.ServerCredentials) =>
    new Promise<number>((resolve, reject) =>
      server.bindAsync(`${opts.host ?? '127.0.0.1'}:${port}`, creds, (err, p) => (err ? reject(err) : resolve(p))),
    );
  const port = await bind(opts.port, grpc.ServerCredentials.createInsecure());
  const tlsPort = opts.tls
    ? await bind(
        opts.tls.port,
        grpc.ServerCredentials.createSsl(
          null,
          [{ cert_chain: opts.tls.material.serverCert, private_key: opts.tls.material.serverKey }],
          false,
        ),
      )
    : undefined;
  engine.start();
  return {
    store,
    engine,
    models,
    policy,
    tokens,
    grpcServer: server,
    port,
    tlsPort,
    methods,
    async stop() {
      engine.stop();
      store.flush();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}
