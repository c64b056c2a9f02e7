import { type DeploymentSpec, sealedValuesIn, sealValue, secretHashKey } from '@mlscale/core';
import type { VertexObservation } from './deployment-observation.js';

/**
 * The values behind a spec's sealed environment, from the containers Vertex already runs: each deployed
 * model's Model keeps its `containerSpec.env`, the one place the values live in the cloud. A value is
 * offered only when it seals to the recorded hash, so a model with another value (the version before a
 * rotation) is passed over for one that has the right one.
 */
export function containerLookup(
  observation: VertexObservation,
  spec: DeploymentSpec,
): (path: string) => string | undefined {
  const key = secretHashKey(spec.name);
  const sealedByPath = new Map(sealedValuesIn(spec).map((entry) => [entry.path, entry.sealed]));
  const served = new Set(
    (observation.endpoint.deployedModels ?? []).map((deployed) => String(deployed.model ?? '').split('@')[0]),
  );
  const environments = observation.models
    .filter((model) => served.has(model.name ?? ''))
    .map((model) => model.containerSpec?.env ?? []);
  return (path) => {
    if (!path.startsWith('environment.')) return undefined;
    const variable = path.slice('environment.'.length);
    const sealed = sealedByPath.get(path);
    for (const environment of environments) {
      const value = environment.find((entry) => entry.name === variable)?.value;
      if (typeof value === 'string' && (sealed === undefined || sealValue(value, key) === sealed))
        return value;
    }
    return undefined;
  };
}
