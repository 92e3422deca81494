import type { Violations } from './errors';
import { structToJson, valueToJson, type Json, type ProtoStruct, type ProtoValue } from './protos';

// Label rules of Vertex resources: ≤64 labels; keys start with a lowercase (or international)
// letter; keys and values ≤63 chars of lowercase letters, digits, '_' and '-'.
const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;

export function checkLabels(v: Violations, field: string, labels: unknown): void {
  if (labels === undefined) return;
  const entries = Object.entries(labels as Record<string, string>);
  if (entries.length > 64) v.add(field, `At most 64 labels are allowed, got ${entries.length}.`);
  for (const [k, val] of entries) {
    if (!LABEL_KEY.test(k))
      v.add(
        `${field}.${k}`,
        `Label key "${k}" is invalid: it must start with a lowercase letter and use only lowercase letters, digits, "_" and "-" (at most 63).`,
      );
    if (!LABEL_VALUE.test(val))
      v.add(
        `${field}.${k}`,
        `Label value "${val}" is invalid: only lowercase letters, digits, "_" and "-" are allowed (at most 63).`,
      );
  }
}

export function checkDisplayName(v: Violations, field: string, name: unknown, required = true): void {
  if (required) v.required(field, name);
  if (typeof name === 'string' && [...name].length > 128)
    v.add(field, 'The display name must be at most 128 characters.');
}

export const PIPELINE_JOB_ID = /^[a-z][-a-z0-9]{0,127}$/;

type ParamType = 'STRING' | 'NUMBER_INTEGER' | 'NUMBER_DOUBLE' | 'BOOLEAN' | 'LIST' | 'STRUCT' | 'TASK_FINAL_STATUS';

interface ParamDef {
  parameterType?: ParamType;
  isOptional?: boolean;
  defaultValue?: Json;
}

/**
 * A compiled KFP pipeline (IR): it must name itself and have a root DAG; runtime parameter values
 * must be declared in root.inputDefinitions.parameters with matching types, and required ones set.
 * Returns the spec as JSON for later use (outputs, caching options).
 */
export function checkPipelineSpec(
  v: Violations,
  spec: ProtoStruct | undefined,
  parameterValues: Record<string, ProtoValue> | undefined,
): { [k: string]: Json } | undefined {
  if (!spec?.fields) return undefined;
  const json = structToJson(spec);
  const info = json.pipelineInfo as { name?: unknown } | undefined;
  if (typeof info?.name !== 'string' || !info.name)
    v.add(
      'pipeline_job.pipeline_spec.pipeline_info.name',
      'The pipeline spec must have pipelineInfo.name (is this a compiled KFP pipeline?).',
    );
  const root = json.root as { inputDefinitions?: { parameters?: Record<string, ParamDef> } } | undefined;
  if (!root || typeof root !== 'object') {
    v.add(
      'pipeline_job.pipeline_spec.root',
      'The pipeline spec must have a root DAG (is this a compiled KFP pipeline?).',
    );
    return json;
  }
  const declared = root.inputDefinitions?.parameters ?? {};
  for (const [name, value] of Object.entries(parameterValues ?? {})) {
    const def = declared[name];
    const field = `pipeline_job.runtime_config.parameter_values.${name}`;
    if (!def) {
      const known = Object.keys(declared);
      v.add(
        field,
        `The pipeline has no input parameter "${name}"${known.length ? `; its parameters are: ${known.join(', ')}` : ''}.`,
      );
      continue;
    }
    const problem = typeProblem(def.parameterType, valueToJson(value));
    if (problem) v.add(field, `Parameter "${name}" ${problem}.`);
  }
  for (const [name, def] of Object.entries(declared)) {
    if (!def.isOptional && def.defaultValue === undefined && !(parameterValues && name in parameterValues)) {
      v.add(
        `pipeline_job.runtime_config.parameter_values.${name}`,
        `The required pipeline parameter "${name}" is not set.`,
      );
    }
  }
  return json;
}

function typeProblem(type: ParamType | undefined, value: Json): string | undefined {
  const got =
    value === null
      ? 'null'
      : Array.isArray(value)
        ? 'a list'
        : typeof value === 'object'
          ? 'a struct'
          : `a ${typeof value}`;
  switch (type) {
    case 'STRING':
      return typeof value === 'string' ? undefined : `must be a string (STRING), got ${got}`;
    case 'NUMBER_INTEGER':
      return typeof value === 'number' && Number.isInteger(value)
        ? undefined
        : `must be an integer (NUMBER_INTEGER), got ${typeof value === 'number' ? String(value) : got}`;
    case 'NUMBER_DOUBLE':
      return typeof value === 'number' ? undefined : `must be a number (NUMBER_DOUBLE), got ${got}`;
    case 'BOOLEAN':
      return typeof value === 'boolean' ? undefined : `must be a boolean (BOOLEAN), got ${got}`;
    case 'LIST':
      return Array.isArray(value) ? undefined : `must be a list (LIST), got ${got}`;
    case 'STRUCT':
      return value !== null && typeof value === 'object' && !Array.isArray(value)
        ? undefined
        : `must be a struct (STRUCT), got ${got}`;
    default:
      return undefined;
  }
}
