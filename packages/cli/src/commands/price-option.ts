import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MlscaleError, parseSpec } from '@mlscale/core';
import { type PricingOverride, pricingOverrideSchema } from '../config/config-schema.js';
import { pricesWith } from '../cost/estimate-cost.js';
import type { PriceTable } from '../cost/price-table.js';
import type { CommandContext } from './command-context.js';

/** The price table with the file's `pricing:` and then `--prices FILE` applied. */
export async function loadPriceOverride(
  file: string | undefined,
  context: CommandContext,
  fromConfig: PricingOverride | undefined,
): Promise<PriceTable | undefined> {
  if (!file) return fromConfig ? pricesWith(fromConfig) : undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(resolve(context.cwd, file), 'utf8'));
  } catch (error) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      message: `--prices ${file}: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
  const override = parseSpec(pricingOverrideSchema, parsed, `price file ${file}`);
  return pricesWith(override, pricesWith(fromConfig));
}
