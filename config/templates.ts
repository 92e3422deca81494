import type { PLACEHOLDERS } from './pipeline-config';

export type TemplateVars = Partial<Record<(typeof PLACEHOLDERS)[number], string>>;

export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** Fills {placeholders}; one the run does not have (e.g. {country} without segments) is an error. */
export function fill(template: string, vars: TemplateVars): string {
  return template.replace(/\{([a-z]+)\}/g, (whole, name: string) => {
    const v = vars[name as keyof TemplateVars];
    if (v === undefined) throw new TemplateError(`${whole} in "${template}" has no value for this run`);
    return v;
  });
}

/** Fills every string inside a JSON value (parameter values may be lists and structs). */
export function fillDeep(value: unknown, vars: TemplateVars): unknown {
  if (typeof value === 'string') return fill(value, vars);
  if (Array.isArray(value)) return value.map((v) => fillDeep(v, vars));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillDeep(v, vars)]));
  return value;
}
