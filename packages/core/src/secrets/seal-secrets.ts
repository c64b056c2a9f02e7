import { createHmac } from 'node:crypto';
import type { DeploymentSpec } from '../spec/deployment.js';
import { specHash } from '../spec-hash.js';
import { containsSecret, secretFieldName } from './secret-patterns.js';

/**
 * Sealing: what a backend records of a spec (in cloud tags, properties, labels or the local state
 * directory) keeps each secret only as a keyed hash. A changed secret still changes the recorded spec,
 * so the change is detected and rolled out, and nobody reading the record learns the value.
 *
 * A value is secret when its field's name says so (`API_TOKEN`, `dbPassword`, ...) or when it carries a
 * secret whatever its name (URL userinfo such as `postgres://app:PASSWORD@db`, a bearer token, a SAS
 * signature, an account key).
 */

/** The start of every sealed value: `sealed:hmac-sha256:<32 base64url characters>`. */
export const sealedValuePrefix = 'sealed:hmac-sha256:';

/** The environment variable holding the key secrets are hashed with. */
export const secretHashKeyVariable = 'MLSCALE_SECRET_HASH_KEY';

/** Whether `value` is a sealed secret rather than a value. */
export function isSealedValue(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(sealedValuePrefix);
}

/** Whether a field's value is to be sealed. */
export function isSecretField(fieldName: string, value: string): boolean {
  return secretFieldName.test(fieldName) || containsSecret(value);
}

/** One secret sealed: its sealed form, and where it was. */
export interface SealedSecret {
  /** The field path (`environment.API_TOKEN`). */
  path: string;
  sealed: string;
  value: string;
}

/**
 * The key a deployment's secrets are hashed with: `MLSCALE_SECRET_HASH_KEY` when it is set (then only
 * those who hold it can test a guess against a recorded hash), else one derived from the deployment's
 * name (the hash then hides the value but does not stop someone who can read the record from trying
 * guesses of a weak secret). Every process that changes a deployment must use the same key, or an
 * unchanged secret reads as changed and is rolled out again.
 */
export function secretHashKey(deploymentName: string): string {
  return process.env[secretHashKeyVariable] || `mlscale:deployment:${deploymentName}`;
}

/** The sealed form of one secret value. */
export function sealValue(value: string, key: string): string {
  if (isSealedValue(value)) return value;
  return `${sealedValuePrefix}${createHmac('sha256', key).update(value).digest('base64url').slice(0, 32)}`;
}

/**
 * A deep copy of `value` with every secret sealed (see the module's comment), and the secrets it found.
 * Values already sealed stay as they are, so sealing twice changes nothing.
 */
export function sealSecrets<T>(value: T, key: string): { sealed: T; secrets: SealedSecret[] } {
  const secrets: SealedSecret[] = [];
  const walk = (item: unknown, path: string, fieldName: string): unknown => {
    if (typeof item === 'string') {
      if (isSealedValue(item) || !isSecretField(fieldName, item)) return item;
      const sealed = sealValue(item, key);
      secrets.push({ path, sealed, value: item });
      return sealed;
    }
    if (Array.isArray(item)) return item.map((entry, index) => walk(entry, `${path}[${index}]`, fieldName));
    if (typeof item !== 'object' || item === null || item instanceof Date) return item;
    const copy: Record<string, unknown> = {};
    for (const [name, entry] of Object.entries(item)) {
      copy[name] = walk(entry, path ? `${path}.${name}` : name, name);
    }
    return copy;
  };
  return { sealed: walk(value, '', '') as T, secrets };
}

/** The spec as backends record it: secrets sealed with the deployment's key. */
export function sealDeploymentSpec(spec: DeploymentSpec): DeploymentSpec {
  return sealSecrets(spec, secretHashKey(spec.name)).sealed;
}

/**
 * The hash a deployment is recorded and compared under: of the sealed spec, so it is the same whether
 * computed from the spec with its secrets or from the record, and differs when a secret changes.
 */
export function deploymentSpecHash(spec: DeploymentSpec): string {
  return specHash(sealDeploymentSpec(spec));
}

/** The sealed values left in a spec, with their paths (values a process needs to run it). */
export function sealedValuesIn(value: unknown): { path: string; sealed: string }[] {
  const found: { path: string; sealed: string }[] = [];
  const walk = (item: unknown, path: string) => {
    if (isSealedValue(item)) found.push({ path, sealed: item });
    else if (Array.isArray(item)) {
      for (const [index, entry] of item.entries()) walk(entry, `${path}[${index}]`);
    } else if (typeof item === 'object' && item !== null && !(item instanceof Date)) {
      for (const [name, entry] of Object.entries(item)) walk(entry, path ? `${path}.${name}` : name);
    }
  };
  walk(value, '');
  return found;
}
