/**
 * Removes secrets from values headed for errors, logs, audit entries and snapshots.
 *
 * Keys that name a secret have their value replaced (unless it is sealed: a keyed hash); strings have
 * bearer tokens, URL signatures (SAS `sig=`, AWS `X-Amz-Signature=`), `key=`/`token=` query parameters,
 * URL userinfo and private keys masked.
 */
import { isSealedValue } from './secrets/seal-secrets.js';
import { secretFieldName, secretsInText } from './secrets/secret-patterns.js';

export const redactedMarker = '[redacted]';

/** Masks secrets inside a string. */
export function redactText(text: string): string {
  let result = text;
  for (const pattern of secretsInText) {
    result = result.replace(pattern, (match, kept: string) =>
      // URL userinfo ends with "@", which stays so the URL still reads as one.
      match.endsWith('@') && kept.endsWith('://') ? `${kept}${redactedMarker}@` : `${kept}${redactedMarker}`,
    );
  }
  return result;
}

/** A deep copy of `value` with secret-named fields masked and secrets in strings removed. */
export function redact<T>(value: T): T {
  return redactValue(value, new WeakSet()) as T;
}

function redactValue(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, seen));
  if (value instanceof Date) return value;
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // A sealed value is a keyed hash, not the secret: it stays, so a changed secret shows as changed.
    result[key] =
      secretFieldName.test(key) && item !== undefined && item !== null && !isSealedValue(item)
        ? redactedMarker
        : redactValue(item, seen);
  }
  return result;
}
