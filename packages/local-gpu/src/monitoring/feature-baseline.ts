import { type featureBaselineSchema, MlscaleError, parseSpec } from '@mlscale/core';
import { z } from 'zod';

/** Per-feature statistics of training data (core's `featureBaselineSchema`). */
export type FeatureBaseline = z.infer<typeof featureBaselineSchema>;

/** Training rows: an array of rows, or row-major values with their feature count. */
export type FeatureRows =
  | readonly (readonly number[])[]
  | { values: ArrayLike<number>; featureCount: number };

const optionsSchema = z
  .object({
    /** Quantile bins per feature (before ties merge). Default 10, as PSI is usually computed. */
    bins: z.number().int().min(2).max(100).default(10),
  })
  .strict();

/**
 * The bin a value falls in, given a baseline's edges: edges[1..n−1] split the line and the two end bins
 * are open (values outside the training range land there). A binary search: O(log bins).
 */
export function featureBin(binEdges: ArrayLike<number>, value: number): number {
  // The count of inner edges ≤ value.
  let low = 1;
  let high = binEdges.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (binEdges[middle]! <= value) low = middle + 1;
    else high = middle;
  }
  return low - 1;
}

/**
 * Computes the drift baseline of training data: per feature the mean, the (population) standard deviation,
 * and quantile bins with the share of rows in each. Ties merge bins; a bin below the smallest value (and one
 * above the largest, when it is also an edge) stays so shifts out of the training range are seen.
 * The registry calls this with the training inputs when a model is registered.
 */
export function computeFeatureBaseline(
  rows: FeatureRows,
  options: z.input<typeof optionsSchema> = {},
): FeatureBaseline[] {
  const { bins } = parseSpec(optionsSchema, options, 'baseline options');
  const { values, featureCount, rowCount } = flatten(rows);
  if (rowCount === 0) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider: 'local',
      message: 'A baseline needs at least one training row.',
      issues: [{ path: 'rows', message: 'expected at least one row' }],
    });
  }
  const column = new Float64Array(rowCount);
  const baselines: FeatureBaseline[] = [];
  for (let feature = 0; feature < featureCount; feature++) {
    let sum = 0;
    for (let row = 0; row < rowCount; row++) {
      const value = values[row * featureCount + feature]!;
      if (!Number.isFinite(value)) throw invalidValue(row, feature);
      column[row] = value;
      sum += value;
    }
    const mean = sum / rowCount;
    let squares = 0;
    for (let row = 0; row < rowCount; row++) squares += (column[row]! - mean) ** 2;
    column.sort();
    const minimum = column[0]!;
    const maximum = column[rowCount - 1]!;
    const inner: number[] = [];
    for (let bin = 1; bin < bins; bin++) {
      const edge = column[Math.min(rowCount - 1, Math.floor((bin * rowCount) / bins))]!;
      if (inner.length === 0 || edge > inner[inner.length - 1]!) inner.push(edge);
    }
    if (inner.length === 0 || inner[0]! > minimum) inner.unshift(minimum);
    const step = Math.max(Math.abs(maximum), 1) * 1e-6;
    if (inner[inner.length - 1]! >= maximum) inner.push(maximum + step);
    const binEdges = [inner[0]! - step, ...inner, Math.max(maximum, inner[inner.length - 1]!) + step];
    const counts = new Array<number>(binEdges.length - 1).fill(0);
    for (let row = 0; row < rowCount; row++) counts[featureBin(binEdges, column[row]!)]! += 1;
    baselines.push({
      mean,
      standardDeviation: Math.sqrt(squares / rowCount),
      binEdges,
      binFractions: counts.map((count) => count / rowCount),
    });
  }
  return baselines;
}

function flatten(rows: FeatureRows): { values: ArrayLike<number>; featureCount: number; rowCount: number } {
  if (!Array.isArray(rows)) {
    const { values, featureCount } = rows as { values: ArrayLike<number>; featureCount: number };
    if (!Number.isInteger(featureCount) || featureCount < 1 || values.length % featureCount !== 0) {
      throw new MlscaleError({
        code: 'InvalidSpec',
        provider: 'local',
        message: `Training values (${values.length}) are not a whole number of rows of ${featureCount} features.`,
        issues: [{ path: 'featureCount', message: 'expected a positive integer dividing values.length' }],
      });
    }
    return { values, featureCount, rowCount: values.length / featureCount };
  }
  const list = rows as readonly (readonly number[])[];
  const featureCount = list[0]?.length ?? 0;
  const values: number[] = [];
  for (const [index, row] of list.entries()) {
    if (row.length !== featureCount || featureCount === 0) {
      throw new MlscaleError({
        code: 'InvalidSpec',
        provider: 'local',
        message: `Training row ${index} has ${row.length} features; expected ${featureCount} like the first row.`,
        issues: [{ path: `rows[${index}]`, message: `expected ${featureCount} numbers` }],
      });
    }
    values.push(...row);
  }
  return { values, featureCount, rowCount: list.length };
}

function invalidValue(row: number, feature: number): MlscaleError {
  return new MlscaleError({
    code: 'InvalidSpec',
    provider: 'local',
    message: `Training row ${row}, feature ${feature} is not a finite number.`,
    issues: [{ path: `rows[${row}][${feature}]`, message: 'expected a finite number' }],
  });
}
