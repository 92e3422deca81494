import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { ConfigError, defaultConfigPath } from './load-config';

// The price table the cost of a run is estimated with (config/prices.yaml, or CT_PRICES).

export const Prices = z.strictObject({
  asOf: z.iso.date(),
  currency: z.string().min(1),
  temporal: z.strictObject({ perMillionActions: z.number().nonnegative(), source: z.string().min(1) }),
  vertex: z.record(
    z.string().min(1),
    z.strictObject({
      source: z.string().min(1),
      pipelineRun: z.number().nonnegative(),
      nodeHour: z.record(z.string().min(1), z.number().nonnegative()),
    }),
  ),
});
export type Prices = z.infer<typeof Prices>;

export const defaultPricesPath = path.join(path.dirname(defaultConfigPath), 'prices.yaml');

export function loadPrices(file = process.env.CT_PRICES || defaultPricesPath): Prices {
  const parsed = Prices.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success)
    throw new ConfigError(
      file,
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
    );
  return parsed.data;
}
