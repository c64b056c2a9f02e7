import type { AutoscalingPolicy } from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import { scalableDimension, scalingPolicyName, scalingPolicyRequest } from './autoscaling-translation.js';
import { variantResourceId } from './resource-names.js';

/**
 * Puts a target-tracking policy on every variant (RegisterScalableTarget, then PutScalingPolicy), or
 * with `null` removes it (DeleteScalingPolicy, DeregisterScalableTarget; what is not there is fine).
 */
export async function applyAutoscaling(
  context: AdapterContext,
  endpoint: string,
  variants: string[],
  policy: AutoscalingPolicy | null,
  signal?: AbortSignal,
): Promise<void> {
  for (const variant of variants) {
    const target = {
      ServiceNamespace: 'sagemaker' as const,
      ResourceId: variantResourceId(endpoint, variant),
      ScalableDimension: scalableDimension as 'sagemaker:variant:DesiredInstanceCount',
    };
    if (policy === null) {
      await context.aws.find(
        'autoScaling',
        'DeleteScalingPolicy',
        ({ module, client }, abortSignal) =>
          client.send(new module.DeleteScalingPolicyCommand({ ...target, PolicyName: scalingPolicyName }), {
            abortSignal,
          }),
        signal,
      );
      await context.aws.find(
        'autoScaling',
        'DeregisterScalableTarget',
        ({ module, client }, abortSignal) =>
          client.send(new module.DeregisterScalableTargetCommand(target), { abortSignal }),
        signal,
      );
      continue;
    }
    await context.aws.call(
      'autoScaling',
      'RegisterScalableTarget',
      ({ module, client }, abortSignal) =>
        client.send(
          new module.RegisterScalableTargetCommand({
            ...target,
            MinCapacity: policy.minReplicas,
            MaxCapacity: policy.maxReplicas,
          }),
          { abortSignal },
        ),
      signal,
    );
    await context.aws.call(
      'autoScaling',
      'PutScalingPolicy',
      ({ module, client }, abortSignal) =>
        client.send(new module.PutScalingPolicyCommand(scalingPolicyRequest(policy, endpoint, variant)), {
          abortSignal,
        }),
      signal,
    );
  }
}
