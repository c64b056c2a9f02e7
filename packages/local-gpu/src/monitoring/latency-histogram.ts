/**
 * Log-scale latency bins shared by every per-second histogram.
 *
 * Bin k (1 ≤ k ≤ binCount − 2) covers [lowestMs·g^(k−1), lowestMs·g^k) with g = 1.05; bin 0 holds what is
 * below `lowestMs` and the last bin what is at or above `highestMs`. A percentile is reported as its bin's
 * geometric middle, so for latencies in [lowestMs, highestMs) it is within ±2.5% (√1.05 − 1) of the exact
 * nearest-rank percentile; the store also clamps it to the exact minimum and maximum it saw.
 */
export const latencyBinGrowth = 1.05;
/** The smallest latency given its own bins: 10 µs. */
export const lowestLatencyMs = 0.01;
/** The largest latency given its own bins: 100 s. */
export const highestLatencyMs = 100_000;
/** The relative error bound on reported percentiles inside [lowestLatencyMs, highestLatencyMs). */
export const latencyRelativeErrorBound = Math.sqrt(latencyBinGrowth) - 1;

const inverseLogGrowth = 1 / Math.log(latencyBinGrowth);
const regularBins = Math.ceil(Math.log(highestLatencyMs / lowestLatencyMs) * inverseLogGrowth);
/** Bins per histogram: the regular ones plus one underflow and one overflow bin. */
export const latencyBinCount = regularBins + 2;

/** The bin a latency falls in (O(1): one logarithm). */
export function latencyBinIndex(latencyMs: number): number {
  if (!(latencyMs >= lowestLatencyMs)) return 0;
  if (latencyMs >= highestLatencyMs) return latencyBinCount - 1;
  const index = 1 + Math.floor(Math.log(latencyMs / lowestLatencyMs) * inverseLogGrowth);
  return Math.min(index, latencyBinCount - 2);
}

/** The value a bin stands for: its geometric middle (the edges for the underflow and overflow bins). */
export function latencyBinValue(index: number): number {
  if (index <= 0) return lowestLatencyMs;
  if (index >= latencyBinCount - 1) return highestLatencyMs;
  return lowestLatencyMs * latencyBinGrowth ** (index - 1) * Math.sqrt(latencyBinGrowth);
}

/**
 * The nearest-rank `quantile` (0–1) of the latencies counted in `counts` (one count per bin), or `null`
 * when there are none.
 */
export function histogramPercentile(
  counts: ArrayLike<number>,
  total: number,
  quantile: number,
): number | null {
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil(quantile * total));
  let seen = 0;
  for (let index = 0; index < counts.length; index++) {
    seen += counts[index] ?? 0;
    if (seen >= rank) return latencyBinValue(index);
  }
  return latencyBinValue(counts.length - 1);
}
