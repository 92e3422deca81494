import { z } from 'zod';
import { PARTITION_FORMATS, partitionExamples, TimeZone } from '../contracts/partition';

export { partitionExamples, TimeZone };

// The building blocks of the config schemas: templates, durations, labels, segments, partitions.

/** Placeholders a template may use; each is filled from the run's identity. */
export const PLACEHOLDERS = [
  'environment',
  'project',
  'region',
  'pipeline',
  'partition',
  'segment',
  'country',
  'sns',
] as const;

export const template = (base: z.ZodString) =>
  base.refine(
    (s) => [...s.matchAll(/\{([^}]*)\}/g)].every((m) => (PLACEHOLDERS as readonly string[]).includes(m[1]!)),
    { message: `unknown placeholder; templates may use ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}` },
  );

export const GcsUri = template(
  z.string().regex(/^gs:\/\/[a-z0-9{][a-z0-9._{}-]{1,221}[a-z0-9}](\/.*)?$/, 'must be a gs://bucket/path URI'),
);

const DURATION = /^([0-9]+)(ms|s|m|h|d)$/;
const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export const Duration = z
  .string()
  .regex(DURATION, 'must be a duration like 90s, 30m, 36h or 2d')
  .transform((s) => {
    const [, n, unit] = DURATION.exec(s)!;
    return Number(n) * unitMs[unit as keyof typeof unitMs];
  });

export const Json: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(Json), z.record(z.string(), Json)]),
);

export const LabelMap = z.record(
  z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'label keys: lowercase letter first, then [a-z0-9_-], at most 63'),
  z.string().regex(/^[a-z0-9_-]{0,63}$/, 'label values: [a-z0-9_-], at most 63'),
);

export const PartitionFormat = z.enum(PARTITION_FORMATS);

export const Segments = z.strictObject({
  countries: z.array(z.string().regex(/^[A-Z]{2}$/, 'ISO 3166 alpha-2, upper case')).min(1),
  sns: z.array(z.string().regex(/^[a-z][a-z0-9]*$/, 'lowercase name like instagram')).min(1),
  exclude: z.array(z.strictObject({ country: z.string().optional(), sns: z.string().optional() })).default([]),
});
