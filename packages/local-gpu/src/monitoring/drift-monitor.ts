import { z } from 'zod';
import { type FeatureBaseline, featureBin } from './feature-baseline.js';
import { populationStabilityIndex } from './population-stability-index.js';

/** Drift window settings. */
export const driftMonitorOptionsSchema = z
  .object({
    /** The sliding window live traffic is compared over. Default 300 s. */
    windowSeconds: z.number().int().min(10).max(86_400).optional(),
    /** Slots the window moves by (its granularity). Default 10. */
    windowSlots: z.number().int().min(1).max(600).optional(),
    /** Fewer rows than this in the window give no drift value (too noisy). Default 100. */
    minimumRows: z.number().int().min(1).optional(),
    /** Rows observed per second at most; the rest are skipped, which bounds the CPU drift costs. Default 500. */
    maximumRowsPerSecond: z.number().int().min(1).optional(),
  })
  .strict();
export type DriftMonitorOptions = z.infer<typeof driftMonitorOptionsSchema>;

/** Per-feature drift now. */
export interface DriftReport {
  /** The drift metric: the largest per-feature PSI, or `null` below `minimumRows`. */
  maximum: number | null;
  /** Rows in the window. */
  rows: number;
  /** PSI per feature (empty below `minimumRows`). */
  features: { feature: number; psi: number }[];
}

/** Compares live inputs with a training baseline by population stability index over a sliding window. */
export interface DriftMonitor {
  readonly featureCount: number;
  /**
   * Counts input rows (row-major `values`, `featureCount` per row) at `timeMs`. Rows with another width
   * are counted in `mismatchedRows` and ignored.
   */
  observe(values: ArrayLike<number>, timeMs: number): void;
  /** PSI per feature over the window ending at `timeMs`. */
  report(timeMs: number): DriftReport;
  /** Rows skipped because their width did not match the baseline. */
  readonly mismatchedRows: number;
}

export function createDriftMonitor(
  baseline: readonly FeatureBaseline[],
  options: DriftMonitorOptions = {},
): DriftMonitor {
  const windowSlots = options.windowSlots ?? 10;
  const slotMs = (Math.max(options.windowSeconds ?? 300, windowSlots) * 1000) / windowSlots;
  const minimumRows = options.minimumRows ?? 100;
  const maximumRowsPerSecond = options.maximumRowsPerSecond ?? 500;
  const featureCount = baseline.length;
  const offsets = new Int32Array(featureCount + 1);
  for (let feature = 0; feature < featureCount; feature++) {
    offsets[feature + 1] = offsets[feature]! + baseline[feature]!.binFractions.length;
  }
  const binsPerSlot = offsets[featureCount]!;
  const counts = new Uint32Array(windowSlots * binsPerSlot);
  const slotRows = new Float64Array(windowSlots);
  const slotStamps = new Float64Array(windowSlots).fill(Number.NaN);
  const edges = baseline.map((feature) => Float64Array.from(feature.binEdges));
  let currentSecond = Number.NaN;
  let rowsThisSecond = 0;
  let mismatchedRows = 0;

  function slotFor(timeMs: number): number {
    const stamp = Math.floor(timeMs / slotMs);
    const slot = stamp % windowSlots;
    if (slotStamps[slot] !== stamp) {
      slotStamps[slot] = stamp;
      slotRows[slot] = 0;
      counts.fill(0, slot * binsPerSlot, (slot + 1) * binsPerSlot);
    }
    return slot;
  }

  return {
    featureCount,
    get mismatchedRows() {
      return mismatchedRows;
    },
    observe(values, timeMs) {
      if (featureCount === 0) return;
      if (values.length % featureCount !== 0) {
        mismatchedRows += 1;
        return;
      }
      const second = Math.floor(timeMs / 1000);
      if (second !== currentSecond) {
        currentSecond = second;
        rowsThisSecond = 0;
      }
      const rows = values.length / featureCount;
      const slot = slotFor(timeMs);
      const base = slot * binsPerSlot;
      for (let row = 0; row < rows && rowsThisSecond < maximumRowsPerSecond; row++, rowsThisSecond++) {
        const rowOffset = row * featureCount;
        for (let feature = 0; feature < featureCount; feature++) {
          const value = values[rowOffset + feature]!;
          counts[base + offsets[feature]! + featureBin(edges[feature]!, value)]! += 1;
        }
        slotRows[slot]! += 1;
      }
    },
    report(timeMs) {
      const newest = Math.floor(timeMs / slotMs);
      const live: number[] = [];
      let rows = 0;
      for (let slot = 0; slot < windowSlots; slot++) {
        const stamp = slotStamps[slot]!;
        if (stamp > newest - windowSlots && stamp <= newest) {
          live.push(slot);
          rows += slotRows[slot]!;
        }
      }
      if (rows < minimumRows) return { maximum: null, rows, features: [] };
      const features: { feature: number; psi: number }[] = [];
      let maximum = 0;
      for (let feature = 0; feature < featureCount; feature++) {
        const start = offsets[feature]!;
        const binCount = offsets[feature + 1]! - start;
        const totals = new Float64Array(binCount);
        for (const slot of live) {
          const base = slot * binsPerSlot + start;
          for (let bin = 0; bin < binCount; bin++) totals[bin]! += counts[base + bin]!;
        }
        const psi = populationStabilityIndex(baseline[feature]!.binFractions, totals, rows);
        features.push({ feature, psi });
        if (psi > maximum) maximum = psi;
      }
      return { maximum, rows, features };
    },
  };
}
