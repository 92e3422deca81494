import { invalidArgument } from './errors';
import { messageFieldNames, V1 } from './protos';

/** google.protobuf.FieldMask as proto-loader decodes it. */
export interface FieldMask {
  paths?: string[];
}

/** A List* request of the job and pipeline services, as the handlers read it. */
export interface ListRequest {
  parent?: string;
  filter?: string;
  pageSize?: number;
  pageToken?: string;
  readMask?: FieldMask | null;
}

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * A List call's `read_mask` (every List* of the job and pipeline services has one): only the
 * fields it names come back, which is how a caller that lists hundreds of jobs a minute keeps each
 * page small. Paths are the message's proto field names (snake_case, as FieldMask carries them;
 * lowerCamelCase is accepted as in FieldMask's JSON form), dotted for a nested field. A path
 * naming no field of the message is INVALID_ARGUMENT; an empty or absent mask returns everything.
 */
export function readMaskOf(
  mask: FieldMask | undefined | null,
  message: string,
): (r: Record<string, unknown>) => Record<string, unknown> {
  const paths = (mask?.paths ?? []).filter(Boolean);
  if (paths.length === 0) return (r) => r;
  const fields = messageFieldNames(`${V1}.${message}`);
  const bad = paths.filter((p) => !fields.has(camel(p.split('.')[0]!)));
  if (bad.length > 0)
    throw invalidArgument(bad.map((p) => ({ field: 'read_mask', message: `"${p}" is not a field of ${message}.` })));
  const split = paths.map((p) => p.split('.').map(camel));
  return (r) => {
    const out: Record<string, unknown> = {};
    for (const path of split) copyPath(r, out, path);
    return out;
  };
}

function copyPath(from: Record<string, unknown>, to: Record<string, unknown>, path: string[]): void {
  const [head, ...rest] = path;
  const v = from[head!];
  if (v === undefined) return;
  if (rest.length === 0 || typeof v !== 'object' || v === null || Array.isArray(v)) {
    to[head!] = v;
    return;
  }
  const inner = (to[head!] ??= {}) as Record<string, unknown>;
  copyPath(v as Record<string, unknown>, inner, rest);
}
