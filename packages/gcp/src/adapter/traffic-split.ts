import { integerPercentages } from './deployment-requests.js';

/** Split entries with traffic, as plain numbers (the client may hand back a Long-free map already). */
export function positiveSplit(split: Record<string, number> | null | undefined): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [id, percent] of Object.entries(split ?? {}))
    if (Number(percent) > 0) result[id] = Number(percent);
  return result;
}

export function sameSplit(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => (a[key] ?? 0) === (b[key] ?? 0));
}

/** `previous` moved `fraction` of the way to `next`, as integer percentages summing to 100. */
export function blend(
  previous: Record<string, number>,
  next: Record<string, number>,
  fraction: number,
): Record<string, number> {
  const ids = [...new Set([...Object.keys(previous), ...Object.keys(next)])];
  const weights = ids.map((id) => (previous[id] ?? 0) * (1 - fraction) + (next[id] ?? 0) * fraction);
  const percentages = integerPercentages(weights);
  const split: Record<string, number> = {};
  ids.forEach((id, index) => {
    if (percentages[index]! > 0) split[id] = percentages[index]!;
  });
  return split;
}
