/**
 * Removes secrets from values headed for errors, logs, audit entries and snapshots.
 *
 * Keys that name a secret have their value replaced; strings have bearer tokens, URL signatures
 * (SAS `sig=`, AWS `X-Amz-Signature=`) and `key=`/`token=` query parameters masked.
 */
const secretKey =
  /(secret|token|password|passwd|api[-_]?key|access[-_]?key|account[-_]?key|signature|sas|credential|authorization|connection[-_]?string|private[-_]?key)/i;
const secretInText = [
  /(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi,
  /([?&](?:sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|token|key|code|se|sv|skoid|sktid)=)[^&\s"']+/gi,
  /((?:AccountKey|SharedAccessSignature|SharedAccessKey)=)[^;\s"']+/gi,
];

export const redactedMarker = '[redacted]';

/** Masks secrets inside a string. */
export function redactText(text: string): string {
  let result = text;
  for (const pattern of secretInText) result = result.replace(pattern, `$1${redactedMarker}`);
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
    result[key] =
      secretKey.test(key) && item !== undefined && item !== null ? redactedMarker : redactValue(item, seen);
  }
  return result;
}
