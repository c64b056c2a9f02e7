/** Shares below this count as this, so empty bins give a large but finite index (the usual smoothing). */
export const psiFloor = 1e-4;

/**
 * The population stability index of `actual` counts against `expected` shares:
 * Σ (a − e) · ln(a / e) over bins. Under 0.1 is usually read as stable, 0.1–0.25 as a moderate shift,
 * over 0.25 as a major one.
 */
export function populationStabilityIndex(
  expectedFractions: ArrayLike<number>,
  actualCounts: ArrayLike<number>,
  actualTotal: number,
): number {
  if (actualTotal <= 0) return 0;
  let index = 0;
  for (let bin = 0; bin < expectedFractions.length; bin++) {
    const expected = Math.max(expectedFractions[bin]!, psiFloor);
    const actual = Math.max((actualCounts[bin] ?? 0) / actualTotal, psiFloor);
    index += (actual - expected) * Math.log(actual / expected);
  }
  return index;
}
