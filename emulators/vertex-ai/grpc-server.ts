import * as grpc from '@grpc/grpc-js';
import type { Storage } from '@google-cloud/storage';
import { EndpointRegistry, isEndpointOperation } from './endpoint-registry';
import { jobService } from './job-service';
import { JobRepository } from './job-repository';
import { JobEngine } from './lifecycle';
import { ModelRegistry } from './model-registry';
import { MonitoringService } from './monitoring-service';
import { TokenIssuer } from './oauth';
import { GcsOutputWriter } from './outputs';
import { pipelineService } from './pipeline-service';
import { CallPolicy } from './policy';
import { PredictionServer } from './prediction-service';
import { loadMonitoringDefinitions, loadServiceDefinitions } from './protos';
import {
  addLatency,
  answerErrors,
  chain,
  enforceQuota,
  identifyCaller,
  injectFaults,
  logCall,
  servedCall,
  type RpcHandler,
} from './rpc-middleware';
import { Store } from './store';
import type { TlsMaterial } from './tls';

// The Vertex AI v1 API over gRPC (plaintext, and TLS when asked for): PipelineService, JobService,
// ModelService, EndpointService, PredictionService and the long-running Operations, with Cloud
// Monitoring's MetricService beside them; each RPC served through rpc-middleware.ts.

export interface Emulator {
  store: Store;
  engine: JobEngine;
  models: ModelRegistry;
  endpoints: EndpointRegistry;
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

type ServiceTree = Record<string, Record<string, Record<string, { service: grpc.ServiceDefinition }>>>;
type PackageTree = Record<string, Record<string, { service: grpc.ServiceDefinition }>>;

/** The services the emulator serves, from the Vertex protos. */
function serviceDefinitions() {
  const defs = grpc.loadPackageDefinition(loadServiceDefinitions()) as unknown as ServiceTree;
  const v1 = (defs.google!.cloud as unknown as ServiceTree).aiplatform!.v1!;
  const longrunning = defs.google!.longrunning as unknown as Record<string, { service: grpc.ServiceDefinition }>;
  const monitoring = grpc.loadPackageDefinition(loadMonitoringDefinitions()) as unknown as ServiceTree;
  return {
    pipelines: v1.PipelineService!.service,
    jobs: v1.JobService!.service,
    models: v1.ModelService!.service,
    endpoints: v1.EndpointService!.service,
    predictions: v1.PredictionService!.service,
    operations: longrunning.Operations!.service,
    metrics: (monitoring.google!.monitoring as unknown as PackageTree).v3!.MetricService!.service,
  };
}

interface EmulatorParts {
  store: Store;
  jobs: JobRepository;
  models: ModelRegistry;
  endpoints: EndpointRegistry;
  predictions: PredictionServer;
  monitoring: MonitoringService;
  policy: CallPolicy;
  tokens: TokenIssuer;
}

/** Every RPC's handler, by service. */
function handlersByService(p: EmulatorParts): [grpc.ServiceDefinition, Record<string, RpcHandler>][] {
  const services = serviceDefinitions();
  return [
    [services.pipelines, pipelineService(p.store, p.jobs)],
    [services.jobs, jobService(p.store, p.jobs, p.models)],
    [
      services.models,
      {
        UploadModel: (r) => p.models.upload(r),
        GetModel: (r) => p.models.get(r.name),
        ListModelVersions: (r) => p.models.listVersions(r),
        MergeVersionAliases: (r) => p.models.mergeVersionAliases(r),
      },
    ],
    [
      services.endpoints,
      {
        CreateEndpoint: (r) => p.endpoints.create(r),
        GetEndpoint: (r) => p.endpoints.get(r.name),
        ListEndpoints: (r) => p.endpoints.list(r),
        UpdateEndpoint: (r) => p.endpoints.update(r),
        DeleteEndpoint: (r) => p.endpoints.delete(r),
        DeployModel: (r) => p.endpoints.deploy(r),
        UndeployModel: (r) => p.endpoints.undeploy(r),
      },
    ],
    [services.predictions, { Predict: (r) => p.predictions.predict(r) }],
    [
      services.operations,
      {
        GetOperation: (r) =>
          isEndpointOperation(r.name) ? p.endpoints.getOperation(r.name) : p.models.getOperation(r.name),
        DeleteOperation: (r) =>
          isEndpointOperation(r.name) ? p.endpoints.deleteOperation(r.name) : p.models.deleteOperation(r.name),
      },
    ],
    [services.metrics, { ListTimeSeries: (r) => p.monitoring.listTimeSeries(r) }],
  ];
}

/** A gRPC server serving every handler behind the middlewares; `methods` lists the RPCs it serves. */
function rpcServer(p: EmulatorParts): { server: grpc.Server; methods: string[] } {
  const middlewares = [
    identifyCaller(p.tokens),
    logCall(p.store),
    addLatency(p.policy),
    answerErrors,
    enforceQuota(p.policy),
    injectFaults(p.policy),
  ];
  const implement = ([method, handler]: [string, RpcHandler]) => {
    const serve = chain(middlewares, handler);
    const unary: grpc.handleUnaryCall<Record<string, unknown>, unknown> = (call, callback) =>
      serve(servedCall(method, call, callback));
    return [method, unary] as const;
  };
  const server = new grpc.Server();
  const methods: string[] = [];
  for (const [service, handlers] of handlersByService(p)) {
    methods.push(...Object.keys(handlers));
    server.addService(service, Object.fromEntries(Object.entries(handlers).map(implement)));
  }
  return { server, methods };
}

/** Binds the plaintext port, and the TLS port when asked for; resolves to the ports bound. */
async function bindPorts(server: grpc.Server, opts: StartOptions): Promise<{ port: number; tlsPort?: number }> {
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
  return { port, tlsPort };
}

export async function startEmulator(opts: StartOptions): Promise<Emulator> {
  const store = new Store(opts.stateFile);
  const engine = new JobEngine(store, new GcsOutputWriter(opts.storage));
  const models = new ModelRegistry(store);
  const endpoints = new EndpointRegistry(store, models);
  const jobs = new JobRepository(store, engine);
  const policy = new CallPolicy(store);
  const tokens = new TokenIssuer();
  engine.onTick = () => {
    models.completeDue();
    endpoints.completeDue();
    return Promise.resolve();
  };

  const { server, methods } = rpcServer({
    store,
    jobs,
    models,
    endpoints,
    predictions: new PredictionServer(store, endpoints),
    monitoring: new MonitoringService(store),
    policy,
    tokens,
  });
  const { port, tlsPort } = await bindPorts(server, opts);
  engine.start();
  return {
    store,
    engine,
    models,
    endpoints,
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
