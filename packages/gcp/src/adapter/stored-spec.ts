import type { protos } from '@google-cloud/aiplatform';
import { type DeploymentSpec, redact, specHash } from '@mlscale/core';
import type { IDeployedModel, IEndpoint } from './endpoint-calls.js';

/** The spec is kept in the endpoint's description, so any process can report it. */
const descriptionPrefix = 'mlscale deployment spec: ';

/** The spec and its hash as the endpoint keeps them, or undefined for an endpoint mlscale did not write. */
export function storedSpec(endpoint: IEndpoint): { spec: DeploymentSpec; hash: string } | undefined {
  const description = endpoint.description ?? '';
  if (!description.startsWith(descriptionPrefix)) return undefined;
  try {
    const parsed = JSON.parse(description.slice(descriptionPrefix.length)) as {
      spec: DeploymentSpec;
      specHash: string;
    };
    return { spec: parsed.spec, hash: parsed.specHash };
  } catch {
    return undefined;
  }
}

/** The spec as stored: secret-looking values (a `*_TOKEN` variable, say) masked; the hash is of the real spec. */
export function describeSpec(spec: DeploymentSpec, hash: string): string {
  return `${descriptionPrefix}${JSON.stringify({ specHash: hash, spec: redact(spec) })}`;
}

/** Whether a deployed model already has these replica counts and autoscaling specs. */
export function sameResources(
  deployed: IDeployedModel,
  resources: protos.google.cloud.aiplatform.v1.IDedicatedResources,
): boolean {
  const current = deployed.dedicatedResources;
  return (
    Number(current?.minReplicaCount ?? 0) === Number(resources.minReplicaCount ?? 0) &&
    Number(current?.maxReplicaCount ?? 0) === Number(resources.maxReplicaCount ?? 0) &&
    JSON.stringify(
      (current?.autoscalingMetricSpecs ?? []).map((item) => [item.metricName, Number(item.target)]),
    ) ===
      JSON.stringify(
        (resources.autoscalingMetricSpecs ?? []).map((item) => [item.metricName, Number(item.target)]),
      )
  );
}

/** Whether two specs differ only in replicas, autoscaling, tags or rollout (changes made in place). */
export function sameExceptScaling(stored: DeploymentSpec, next: DeploymentSpec): boolean {
  const strip = ({ replicas: _r, autoscaling: _a, tags: _t, rollout: _o, ...rest }: DeploymentSpec) => rest;
  // The stored spec is redacted: compare like with like.
  return specHash(strip(redact(stored))) === specHash(strip(redact(next)));
}
