/**
 * Whether `item` is plain data (an object literal, or parsed YAML/JSON). Anything else — a class instance
 * a TypeScript config passes through, such as gRPC channel credentials or an Azure token credential — is
 * kept as it is by the config's walkers: rebuilding it as a plain object would drop its prototype and
 * break it.
 */
export function isPlainObject(item: unknown): item is Record<string, unknown> {
  if (item === null || typeof item !== 'object') return false;
  const prototype = Object.getPrototypeOf(item);
  return prototype === Object.prototype || prototype === null;
}
