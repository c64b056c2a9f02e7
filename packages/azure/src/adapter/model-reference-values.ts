import { type DeploymentSpec, sealedValuesIn, sealValue, secretHashKey } from '@mlscale/core';
import { endpointModelVersions } from './deployment-targets.js';
import type { StepContext } from './step-context.js';

/**
 * The recorded spec's model references with the values behind their sealed parts (an https artifact
 * URL with a SAS signature is recorded sealed, but registering it needs the URL itself): remembered by
 * this process, else the `modelUri` of a model version registered for the endpoint that seals to the
 * recorded hash (another process registered it), else `blocked`. Only the model references are
 * unsealed, so a secret of the container environment known nowhere does not block registering a model.
 */
export async function modelReferenceValues(
  step: StepContext,
): Promise<{ spec: DeploymentSpec } | { blocked: string }> {
  const { context, name, record, secrets, signal } = step;
  const { desired } = record;
  const references: DeploymentSpec = {
    name: desired.name,
    replicas: desired.replicas,
    model: desired.model,
    ...(desired.traffic ? { traffic: desired.traffic } : {}),
  };
  if (secrets.missing(references).length === 0) return secrets.resolve(references);
  const key = secretHashKey(name);
  const registered = await endpointModelVersions(context, name, signal);
  const sealedAt = new Map(sealedValuesIn(references).map(({ path, sealed }) => [path, sealed]));
  return secrets.resolve(references, (path) => {
    const sealed = sealedAt.get(path);
    return registered.find((version) => sealValue(version.modelUri, key) === sealed)?.modelUri;
  });
}
