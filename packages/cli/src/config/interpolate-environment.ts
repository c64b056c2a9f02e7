import type { SpecIssue } from '@mlscale/core';
import { isPlainObject } from './plain-object.js';

/** `${env:NAME}` or `${env:NAME:-fallback}`. */
const reference = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** An interpolation problem, with the raw path for locating it. */
export interface InterpolationIssue extends SpecIssue {
  rawPath: (string | number)[];
}

/**
 * Replaces `${env:NAME}` in every string of `value` with the variable's value. Missing variables without
 * a fallback are reported (not replaced by ""), so a typo cannot deploy an empty setting.
 */
export function interpolateEnvironment(
  value: unknown,
  environment: Readonly<Record<string, string | undefined>>,
): { value: unknown; issues: InterpolationIssue[] } {
  const issues: InterpolationIssue[] = [];
  const walk = (item: unknown, path: (string | number)[]): unknown => {
    if (typeof item === 'string') {
      return item.replace(reference, (_match, name: string, fallback: string | undefined) => {
        const found = environment[name];
        if (found !== undefined) return found;
        if (fallback !== undefined) return fallback;
        issues.push({
          path: formatPath(path),
          rawPath: path,
          message: `environment variable ${name} is not set (write \${env:${name}:-default} for a fallback)`,
        });
        return '';
      });
    }
    if (Array.isArray(item)) return item.map((element, index) => walk(element, [...path, index]));
    if (isPlainObject(item)) {
      const result: Record<string, unknown> = {};
      for (const [key, element] of Object.entries(item)) result[key] = walk(element, [...path, key]);
      return result;
    }
    return item;
  };
  return { value: walk(value, []), issues };
}

/** `deployments[0].model.uri` from `['deployments', 0, 'model', 'uri']`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let result = '';
  for (const segment of path) {
    if (typeof segment === 'number') result += `[${segment}]`;
    else result += result ? `.${String(segment)}` : String(segment);
  }
  return result || '(root)';
}
