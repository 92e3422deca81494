import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import type { Rates } from '../contracts/cost';
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

const loaded = new Map<string, Prices>();

/** The table parsed once per file for the life of the process (the worker's planning activities read it per run). */
export function pricesOnce(file = process.env.CT_PRICES || defaultPricesPath): Prices {
  let p = loaded.get(file);
  if (!p) loaded.set(file, (p = loadPrices(file)));
  return p;
}

/** A region's row, as a run's plan carries it; undefined when the table has no prices for the region. */
export function ratesFor(prices: Prices, region: string): Rates | undefined {
  const v = prices.vertex[region];
  return v
    ? {
        region,
        asOf: prices.asOf,
        currency: prices.currency,
        perMillionActions: prices.temporal.perMillionActions,
        pipelineRun: v.pipelineRun,
        nodeHour: v.nodeHour,
      }
    : undefined;
}
