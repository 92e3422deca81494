import { createHash } from 'node:crypto';
import type { Storage } from '@google-cloud/storage';
import { ApplicationFailure } from '@temporalio/common';
import { parse } from 'yaml';
import { INVALID_INPUT, INVALID_PARAMETERS } from '../../contracts';
import { readGcsText } from '../gcs';

// A compiled KFP pipeline (IR, YAML or JSON) read from GCS. Vertex v1 takes it as pipelineSpec
// (templateUri accepts only Template Registry URIs), and has no caching switch: like the Vertex
// SDK's enable_caching we set cachingOptions on every task of the spec.

interface ParamDef {
  parameterType?: string;
  isOptional?: boolean;
  defaultValue?: unknown;
}
interface Dag {
  tasks?: Record<string, { cachingOptions?: { enableCache?: boolean } }>;
}
export interface KfpSpec {
  pipelineInfo?: { name?: string };
  root?: { dag?: Dag; inputDefinitions?: { parameters?: Record<string, ParamDef> } };
  components?: Record<string, { dag?: Dag }>;
}

export async function readSpec(storage: Storage, uri: string): Promise<{ spec: KfpSpec; sha256: string }> {
  const text = await readGcsText(storage, uri);
  const spec = parse(text) as KfpSpec;
  if (!spec?.pipelineInfo?.name || !spec.root) {
    throw ApplicationFailure.nonRetryable(
      `${uri} is not a compiled KFP pipeline (no pipelineInfo.name or root)`,
      INVALID_PARAMETERS,
    );
  }
  return { spec, sha256: createHash('sha256').update(text).digest('hex') };
}

function typeOk(type: string | undefined, v: unknown): boolean {
  switch (type) {
    case 'STRING':
      return typeof v === 'string';
    case 'NUMBER_INTEGER':
      return typeof v === 'number' && Number.isInteger(v);
    case 'NUMBER_DOUBLE':
      return typeof v === 'number';
    case 'BOOLEAN':
      return typeof v === 'boolean';
    case 'LIST':
      return Array.isArray(v);
    case 'STRUCT':
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    default:
      return true;
  }
}

/**
 * Checks values against root.inputDefinitions.parameters; every problem is listed at once. A problem
 * with one of the run's own `overrides` is the caller's input (InvalidInput); others are the config's.
 */
export function checkParameters(
  spec: KfpSpec,
  values: Record<string, unknown>,
  uri: string,
  overrides: Record<string, unknown> = {},
): void {
  const declared = spec.root?.inputDefinitions?.parameters ?? {};
  const problems: string[] = [];
  let fromInput = false;
  for (const [name, v] of Object.entries(values)) {
    const def = declared[name];
    const problem = !def
      ? `"${name}" is not a parameter of the pipeline (it has: ${Object.keys(declared).join(', ')})`
      : !typeOk(def.parameterType, v)
        ? `"${name}" must be ${def.parameterType}, got ${JSON.stringify(v)}`
        : undefined;
    if (!problem) continue;
    problems.push(problem);
    fromInput ||= name in overrides;
  }
  for (const [name, def] of Object.entries(declared)) {
    if (!def.isOptional && def.defaultValue === undefined && !(name in values))
      problems.push(`required parameter "${name}" has no value`);
  }
  if (problems.length)
    throw ApplicationFailure.nonRetryable(
      `parameters do not fit ${uri}: ${problems.join('; ')}`,
      fromInput ? INVALID_INPUT : INVALID_PARAMETERS,
    );
}

export function withCaching(spec: KfpSpec, enable: boolean): KfpSpec {
  const copy = structuredClone(spec);
  const dags = [copy.root?.dag, ...Object.values(copy.components ?? {}).map((c) => c.dag)];
  for (const dag of dags)
    for (const task of Object.values(dag?.tasks ?? {})) task.cachingOptions = { enableCache: enable };
  return copy;
}
