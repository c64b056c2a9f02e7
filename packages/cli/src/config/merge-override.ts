import { isPlainObject } from './plain-object.js';

/**
 * Merges an environment's override into a resource: objects merge key by key, arrays and scalars
 * replace, and `null` removes the field (so `autoscaling: null` turns autoscaling off in that environment).
 */
export function mergeOverride(base: unknown, override: unknown): unknown {
  if (override === null) return undefined;
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const merged = mergeOverride(base[key], value);
    if (merged === undefined) delete result[key];
    else result[key] = merged;
  }
  return result;
}
