import { MlscaleError } from '../errors.js';
import { redactedMarker } from '../redact.js';
import {
  isSealedValue,
  sealedValuesIn,
  sealSecrets,
  sealValue,
  secretHashKey,
} from '../secrets/seal-secrets.js';
import type { DeploymentSpec } from '../spec/deployment.js';

/**
 * The secret values this process has seen, behind their seals. Backends record specs sealed; when they
 * must run a container they need the values again: from this memory (the process that deployed), or
 * from the cloud's own copy of the container's environment (`lookup`), never from the record.
 */
export interface SecretMemory {
  /** Remembers each secret value of `spec` behind its seal (spec may already be partly sealed). */
  remember(spec: DeploymentSpec): void;
  /**
   * `spec` with its sealed values replaced by the values behind them. `lookup(path)` offers a value
   * from elsewhere (the serving container's environment); it is used only when it seals to the same
   * hash. Throws `InvalidSpec` naming each value neither knows.
   */
  unseal(spec: DeploymentSpec, lookup?: (path: string) => string | undefined): DeploymentSpec;
  /** Paths of the sealed values in `spec` this process cannot resolve on its own. */
  missing(spec: DeploymentSpec): string[];
  /**
   * `spec` unsealed for running a container, or what blocks it: the paths whose values neither this
   * process nor `lookup` knows (a reconcile step reports `{ blocked }` instead of guessing).
   */
  resolve(
    spec: DeploymentSpec,
    lookup?: (path: string) => string | undefined,
  ): { spec: DeploymentSpec } | { blocked: string };
  /**
   * `text` with every secret value this process knows replaced by `[redacted]`: for cloud error
   * messages that quote a request (a validation error that echoes the container's environment) before
   * they are recorded, shown or thrown.
   */
  mask(text: string): string;
}

export function createSecretMemory(): SecretMemory {
  const values = new Map<string, string>();

  const resolve = (
    sealed: string,
    path: string,
    key: string,
    lookup?: (path: string) => string | undefined,
  ) => {
    const known = values.get(sealed);
    if (known !== undefined) return known;
    const offered = lookup?.(path);
    if (offered !== undefined && sealValue(offered, key) === sealed) {
      values.set(sealed, offered);
      return offered;
    }
    return undefined;
  };

  const memory: SecretMemory = {
    remember(spec) {
      for (const secret of sealSecrets(spec, secretHashKey(spec.name)).secrets)
        values.set(secret.sealed, secret.value);
    },
    unseal(spec, lookup) {
      const key = secretHashKey(spec.name);
      const unknown: string[] = [];
      const walk = (item: unknown, path: string): unknown => {
        if (typeof item === 'string') {
          if (!isSealedValue(item)) return item;
          const value = resolve(item, path, key, lookup);
          if (value === undefined) unknown.push(path);
          return value ?? item;
        }
        if (Array.isArray(item)) return item.map((entry, index) => walk(entry, `${path}[${index}]`));
        if (typeof item !== 'object' || item === null || item instanceof Date) return item;
        const copy: Record<string, unknown> = {};
        for (const [name, entry] of Object.entries(item))
          copy[name] = walk(entry, path ? `${path}.${name}` : name);
        return copy;
      };
      const unsealed = walk(spec, '') as DeploymentSpec;
      if (unknown.length > 0) {
        const message =
          'the deployment records only a keyed hash of this secret, and neither this process nor the serving container has its value: pass the value itself';
        throw new MlscaleError({
          code: 'InvalidSpec',
          message: `Cannot run '${spec.name}' from its record alone:\n${unknown.map((path) => `  - ${path}: ${message}`).join('\n')}`,
          issues: unknown.map((path) => ({ path, message })),
        });
      }
      return unsealed;
    },
    missing(spec) {
      return sealedValuesIn(spec)
        .filter(({ sealed }) => !values.has(sealed))
        .map(({ path }) => path);
    },
    resolve(spec, lookup) {
      try {
        return { spec: memory.unseal(spec, lookup) };
      } catch (error) {
        if (!MlscaleError.hasCode(error, 'InvalidSpec')) throw error;
        const paths = error.issues.map((issue) => issue.path);
        return {
          blocked: `the values behind ${paths.join(', ')} are known neither here nor in the serving container; run the update again with them`,
        };
      }
    },
    mask(text) {
      return maskValues(text, values.values());
    },
  };
  return memory;
}

/** Values shorter than this are not masked: they would match ordinary words. */
const shortestMasked = 4;

/** `text` with each of `secrets` replaced by `[redacted]`, the longest first. */
export function maskValues(text: string, secrets: Iterable<string>): string {
  let masked = text;
  const ordered = [...secrets]
    .filter((secret) => secret.length >= shortestMasked)
    .sort((a, b) => b.length - a.length);
  for (const secret of ordered) masked = masked.split(secret).join(redactedMarker);
  return masked;
}
