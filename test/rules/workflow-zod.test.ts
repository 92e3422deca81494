// zod is preloaded once per workflow V8 context (workflows/support/preload.ts) and the SDK then deep-freezes
// it, zod's own regexes included. zod resets `lastIndex` on a format's pattern before each test,
// so a schema in workflow code that checks with one of those shared regexes (z.email(),
// .lowercase(), z.iso.date(), …) would throw a TypeError in the worker — a workflow task failing
// forever — while the same schema passes in clients and in this process. Formats in workflow code
// use .regex() with a pattern of their own; this test finds every pattern the bundled schemas use.
import { z } from 'zod';
import * as primitives from '../../config/primitives';
import * as contracts from '../../contracts';

const zodRegexes = new Set(Object.values(z.regexes).filter((v): v is RegExp => v instanceof RegExp));

type Schema = { _zod: { def: object } };
const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && '_zod' in v;

/** Every format in the schema tree whose pattern is one of zod's shared regexes, with its path. */
function sharedPatterns(schema: Schema, at: string, seen = new Set<unknown>()): string[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  const def = schema._zod.def as Record<string, unknown>;
  const found: string[] = [];
  if (def.pattern instanceof RegExp && zodRegexes.has(def.pattern)) found.push(`${at}: ${String(def.format)}`);
  // Children wherever the definition keeps them (shape, options, innerType, element, checks, in/out, …).
  for (const [key, value] of Object.entries(def)) {
    const children: [string, unknown][] = isSchema(value)
      ? [[`.${key}`, value]]
      : Array.isArray(value)
        ? value.map((v, i) => [`.${key}[${i}]`, v])
        : typeof value === 'object' && value !== null
          ? Object.entries(value).map(([k, v]) => [`.${key}.${k}`, v])
          : [];
    for (const [path, child] of children) if (isSchema(child)) found.push(...sharedPatterns(child, at + path, seen));
  }
  return found;
}

const bundledSchemas = Object.entries<unknown>({ ...contracts, ...primitives }).filter((e): e is [string, Schema] =>
  isSchema(e[1]),
);

test('the detector sees zod formats that use its shared regexes, and not a pattern of our own', () => {
  const probe = z.object({
    who: z.email(),
    day: z.iso.date(),
    tags: z.array(z.string().lowercase()),
    at: z.iso.datetime(),
    id: z.string().regex(/^[a-z]+$/),
  });
  expect(sharedPatterns(probe, 'probe')).toEqual([
    'probe.shape.who: email',
    'probe.shape.day: date',
    'probe.shape.tags.element.checks[0]: lowercase',
  ]);
});

test('no schema that workflow code bundles checks a format with one of zod’s shared (frozen) regexes', () => {
  expect(bundledSchemas.length).toBeGreaterThan(10);
  expect(bundledSchemas.flatMap(([name, schema]) => sharedPatterns(schema, name))).toEqual([]);
});
