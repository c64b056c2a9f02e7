import { badArgument } from './arm-error.js';

/** A request body's object, or a 400 naming `what`. */
export function objectOf(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badArgument(`${what}: expected an object.`);
  }
  return value as Record<string, unknown>;
}

/** A dictionary of strings (tags, properties, environment variables), or a 400 naming the bad entry. */
export function stringMap(value: unknown, what: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const map = objectOf(value, what);
  for (const [name, item] of Object.entries(map)) {
    if (typeof item !== 'string') throw badArgument(`${what}.${name}: expected a string.`);
  }
  return map as Record<string, string>;
}
