import type { DescribeEndpointCommandOutput, DesiredWeightAndCapacity } from '@aws-sdk/client-sagemaker';
import type { DeploymentSpec } from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import { variantModels } from './deployment-requests.js';

/**
 * What UpdateEndpointWeightsAndCapacities must set for the endpoint to carry `spec`'s weights and (for
 * a fixed-size, non-serverless deployment) its instance count on every variant; undefined when it does
 * already. An autoscaled deployment's counts are Application Auto Scaling's to set.
 */
export function capacityChanges(
  spec: DeploymentSpec,
  endpoint: DescribeEndpointCommandOutput,
): DesiredWeightAndCapacity[] | undefined {
  const weights = variantModels(spec).map((entry) => entry.weight);
  const fixed = !spec.serverless && !spec.autoscaling;
  const variants = endpoint.ProductionVariants ?? [];
  const differs = variants.some(
    (variant, index) =>
      (variant.DesiredWeight ?? variant.CurrentWeight) !== weights[index] ||
      (fixed && variant.DesiredInstanceCount !== spec.replicas),
  );
  if (!differs) return undefined;
  return variants.map((variant, index) => ({
    VariantName: variant.VariantName!,
    DesiredWeight: weights[index] ?? 0,
    ...(fixed ? { DesiredInstanceCount: spec.replicas } : {}),
  }));
}

/** Sets weights and counts in place; the endpoint goes Updating, then InService. */
export async function changeCapacity(
  context: AdapterContext,
  name: string,
  changes: DesiredWeightAndCapacity[],
  signal: AbortSignal | undefined,
): Promise<void> {
  await context.aws.call(
    'sageMaker',
    'UpdateEndpointWeightsAndCapacities',
    ({ module, client }, abortSignal) =>
      client.send(
        new module.UpdateEndpointWeightsAndCapacitiesCommand({
          EndpointName: name,
          DesiredWeightsAndCapacities: changes,
        }),
        { abortSignal },
      ),
    signal,
  );
}
