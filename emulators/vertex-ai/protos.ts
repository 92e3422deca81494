import { existsSync } from 'node:fs';
import path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

// The emulator serves exactly the .proto files the real Node client ships, so any Vertex v1 gRPC
// client (any language) sees the same wire format as on aiplatform.googleapis.com.
const aiplatformProtos = path.join(path.dirname(require.resolve('@google-cloud/aiplatform')), '..', 'protos');
const gaxProtos = path.join(path.dirname(require.resolve('google-gax')), '..', 'protos');
const includeDirs = [aiplatformProtos, gaxProtos];
// Cloud Monitoring's protos, as @google-cloud/monitoring ships them (google/api/* comes from gax's).
const monitoringProtos = path.join(path.dirname(require.resolve('@google-cloud/monitoring')), '..', 'protos');

const files = [
  'google/cloud/aiplatform/v1/pipeline_service.proto',
  'google/cloud/aiplatform/v1/job_service.proto',
  'google/cloud/aiplatform/v1/model_service.proto',
  'google/cloud/aiplatform/v1/endpoint_service.proto',
  'google/cloud/aiplatform/v1/prediction_service.proto',
  'google/longrunning/operations.proto',
];

export const V1 = 'google.cloud.aiplatform.v1';

export function loadServiceDefinitions(): protoLoader.PackageDefinition {
  // camelCase fields, enums as names, int64 as strings, no default-filling: handlers see what the
  // client actually set, which is what required-field validation needs.
  return protoLoader.loadSync(files, {
    includeDirs,
    keepCase: false,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
}

/** google.monitoring.v3 (MetricService), loaded apart: it shares google/api/* with Vertex's but not a package. */
export function loadMonitoringDefinitions(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(['google/monitoring/v3/metric_service.proto'], {
    includeDirs: [monitoringProtos, gaxProtos],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
}

let root: protobuf.Root | undefined;
function protoRoot(): protobuf.Root {
  if (!root) {
    root = new protobuf.Root();
    root.resolvePath = (_origin, target) => {
      for (const dir of includeDirs) {
        const candidate = path.join(dir, target);
        if (existsSync(candidate)) return candidate;
      }
      return target;
    };
    root.loadSync(files, { keepCase: false });
  }
  return root;
}

/** Per message type, once: a masked List call asks on every page. */
const fieldNames = new Map<string, ReadonlySet<string>>();

/** The field names (lowerCamelCase) of a message of the served protos. */
export function messageFieldNames(typeName: string): ReadonlySet<string> {
  let names = fieldNames.get(typeName);
  if (!names) fieldNames.set(typeName, (names = new Set(Object.keys(protoRoot().lookupType(typeName).fields))));
  return names;
}

/**
 * Packs a message into google.protobuf.Any with the type URL Vertex uses. Python's client unpacks
 * with Any.Unpack and refuses an empty or different type URL (Node's ignores it).
 */
export function packAny(typeName: string, value: object): { type_url: string; value: Buffer } {
  const type = protoRoot().lookupType(typeName);
  // `type_url`, not `typeUrl`: protobufjs serves google/protobuf/any.proto from its own bundled
  // descriptor, whose field names stay snake_case whatever keepCase says, so a camelCase key is
  // silently dropped and the client gets an empty type URL.
  // fromObject (not verify) so int64 fields may be decimal strings, as elsewhere in the emulator.
  return {
    type_url: `type.googleapis.com/${typeName}`,
    value: Buffer.from(type.encode(type.fromObject(value)).finish()),
  };
}

// google.protobuf.Struct / Value as proto-loader decodes them (with the `kind` oneof name).
export type ProtoValue =
  | { nullValue: 'NULL_VALUE' | 0; kind?: 'nullValue' }
  | { numberValue: number; kind?: 'numberValue' }
  | { stringValue: string; kind?: 'stringValue' }
  | { boolValue: boolean; kind?: 'boolValue' }
  | { structValue: ProtoStruct; kind?: 'structValue' }
  | { listValue: { values?: ProtoValue[] }; kind?: 'listValue' };
export interface ProtoStruct {
  fields?: Record<string, ProtoValue>;
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function valueToJson(v: ProtoValue | undefined): Json {
  if (!v) return null;
  if ('stringValue' in v) return v.stringValue;
  if ('numberValue' in v) return v.numberValue;
  if ('boolValue' in v) return v.boolValue;
  if ('structValue' in v) return structToJson(v.structValue);
  if ('listValue' in v) return (v.listValue.values ?? []).map(valueToJson);
  return null;
}

export function structToJson(s: ProtoStruct | undefined): { [k: string]: Json } {
  return Object.fromEntries(Object.entries(s?.fields ?? {}).map(([k, v]) => [k, valueToJson(v)]));
}

/** The inverse of valueToJson: a JSON value as google.protobuf.Value, for answers the emulator makes up. */
export function jsonToValue(j: unknown): ProtoValue {
  if (j === null || j === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof j === 'number') return { numberValue: j };
  if (typeof j === 'string') return { stringValue: j };
  if (typeof j === 'boolean') return { boolValue: j };
  if (Array.isArray(j)) return { listValue: { values: j.map(jsonToValue) } };
  return {
    structValue: { fields: Object.fromEntries(Object.entries(j).map(([k, v]) => [k, jsonToValue(v)])) },
  };
}

export interface ProtoTimestamp {
  seconds: string;
  nanos: number;
}

export function fromTimestamp(t: { seconds?: string | number; nanos?: number } | undefined): number | undefined {
  return t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1_000_000) : undefined;
}

export function toTimestamp(ms: number): ProtoTimestamp {
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

/**
 * A google.longrunning.Operation as Vertex answers it: generic metadata (create and update times),
 * then either nothing (running), the error, or the response, each packed as Any of its type.
 */
export function renderOperation(op: {
  name: string;
  metadataType: string;
  responseType: string;
  createTime: number;
  doneAt: number;
  done: boolean;
  error?: unknown;
  response?: object;
}): Record<string, unknown> {
  const base = {
    name: op.name,
    metadata: packAny(op.metadataType, {
      genericMetadata: {
        createTime: toTimestamp(op.createTime),
        updateTime: toTimestamp(op.done ? op.doneAt : op.createTime),
      },
    }),
    done: op.done,
  };
  if (!op.done) return base;
  if (op.error) return { ...base, error: op.error };
  return { ...base, response: packAny(op.responseType, op.response ?? {}) };
}
