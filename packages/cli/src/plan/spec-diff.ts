import { canonicalJson, redact } from '@mlscale/core';

/** One changed field: where, and its value before and after (secrets redacted). */
export interface FieldChange {
  path: string;
  before: unknown;
  after: unknown;
}

/**
 * Changed leaf fields between two specs. Objects are compared key by key; arrays and scalars as whole
 * values (a changed rollout step list is one change, as a reader thinks of it).
 */
export function diffSpecs(before: unknown, after: unknown): FieldChange[] {
  const changes: FieldChange[] = [];
  const walk = (left: unknown, right: unknown, path: string) => {
    if (isObject(left) && isObject(right)) {
      const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])].sort();
      for (const key of keys) walk(left[key], right[key], path ? `${path}.${key}` : key);
      return;
    }
    if (canonicalJson(left ?? null) !== canonicalJson(right ?? null)) {
      changes.push({
        path: path || '(root)',
        before: redactField(path, left),
        after: redactField(path, right),
      });
    }
  };
  walk(before, after, '');
  return changes;
}

function redactField(path: string, value: unknown): unknown {
  const key = path.split('.').at(-1) ?? path;
  return (redact({ [key]: value }) as Record<string, unknown>)[key];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
