import type { OnlineDeployment } from '@azure/arm-machinelearning';

/**
 * A `SecretMemory` lookup over the environment Azure holds for a deployment's container: the value of
 * `environment.NAME` is its variable `NAME`. Memory uses a value only when it seals to the recorded hash.
 */
export function containerEnvironmentLookup(
  deployment: OnlineDeployment | undefined,
): (path: string) => string | undefined {
  const variables = (deployment?.properties.environmentVariables ?? {}) as Record<string, string | null>;
  return (path) =>
    path.startsWith('environment.') ? (variables[path.slice('environment.'.length)] ?? undefined) : undefined;
}
