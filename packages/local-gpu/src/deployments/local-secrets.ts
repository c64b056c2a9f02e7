import {
  type DeploymentSpec,
  isSealedValue,
  sealDeploymentSpec,
  sealValue,
  secretHashKey,
  specHash,
} from '@mlscale/core';
import { createSecretMemory } from '@mlscale/core/provider-utils';

/** `providerOptions.local` as far as its secrets go. */
interface LocalServerOptions {
  token?: string;
  tls?: { key?: string; cert?: string };
  [field: string]: unknown;
}

const tlsKeyPath = 'providerOptions.local.tls.key';

const localOptionsOf = (spec: DeploymentSpec): LocalServerOptions | undefined =>
  spec.providerOptions?.local as LocalServerOptions | undefined;

/**
 * The spec as the local backend records and reports it: core's sealing (secret-named fields such as
 * `providerOptions.local.token`, URL userinfo, ...) plus the TLS private key, which core does not know
 * by its field name (`key`).
 */
export function recordedSpec(spec: DeploymentSpec): DeploymentSpec {
  const local = localOptionsOf(spec);
  const key = local?.tls?.key;
  if (!local?.tls || key === undefined || isSealedValue(key)) return sealDeploymentSpec(spec);
  const sealedKey = sealValue(key, secretHashKey(spec.name));
  return sealDeploymentSpec({
    ...spec,
    providerOptions: { ...spec.providerOptions, local: { ...local, tls: { ...local.tls, key: sealedKey } } },
  });
}

/** The hash a spec is recorded and compared under (of `recordedSpec`). */
export function recordedSpecHash(spec: DeploymentSpec): string {
  return specHash(recordedSpec(spec));
}

/**
 * The secret values the local server runs with (its bearer token and TLS key), kept in this process's
 * memory only: the record on disk holds their seals. Other sealed values (environment, tags) are not
 * used by the local server, so a spec runs with them still sealed.
 */
export interface LocalSecrets {
  /** Remembers the secret values of a spec given by a caller. */
  remember(spec: DeploymentSpec): void;
  /**
   * The spec with the server's own secrets (token, TLS key) and model reference as values, or the paths
   * whose values this process does not know (a record written by another process).
   */
  runnable(spec: DeploymentSpec): { spec: DeploymentSpec } | { missing: string[] };
}

export function createLocalSecrets(): LocalSecrets {
  const memory = createSecretMemory();
  const tlsKeys = new Map<string, string>();
  return {
    remember(spec) {
      memory.remember(spec);
      const key = localOptionsOf(spec)?.tls?.key;
      if (key !== undefined && !isSealedValue(key))
        tlsKeys.set(sealValue(key, secretHashKey(spec.name)), key);
    },
    runnable(spec) {
      const local = localOptionsOf(spec);
      const missing: string[] = [];
      let tls = local?.tls;
      if (tls?.key !== undefined && isSealedValue(tls.key)) {
        const key = tlsKeys.get(tls.key);
        if (key === undefined) missing.push(tlsKeyPath);
        else tls = { ...tls, key };
      }
      // Only what the server runs with is unsealed: the model reference and the server's own options.
      const needed = {
        name: spec.name,
        model: spec.model,
        replicas: spec.replicas,
        ...(local ? { providerOptions: { local: { ...local, ...(tls ? { tls } : {}) } } } : {}),
      } as DeploymentSpec;
      missing.push(...memory.missing(needed).filter((path) => path !== tlsKeyPath));
      if (missing.length > 0) return { missing };
      const values = memory.unseal(needed);
      return {
        spec: {
          ...spec,
          model: values.model,
          ...(values.providerOptions
            ? { providerOptions: { ...spec.providerOptions, local: values.providerOptions.local } }
            : {}),
        },
      };
    },
  };
}
