import type { ScalableTarget, ScalingPolicy } from '@aws-sdk/client-application-auto-scaling';
import type { AutoscalingPolicy } from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import {
  policyFromAutoScaling,
  scalableDimension,
  scalingPolicyName,
  scalingPolicyRequest,
} from './autoscaling-translation.js';
import { variantResourceId } from './resource-names.js';

/** What Application Auto Scaling holds for one variant: its scalable target and mlscale's policy. */
export interface VariantScaling {
  variant: string;
  target?: ScalableTarget;
  policy?: ScalingPolicy;
}

function targetOf(endpoint: string, variant: string) {
  return {
    ServiceNamespace: 'sagemaker' as const,
    ResourceId: variantResourceId(endpoint, variant),
    ScalableDimension: scalableDimension as 'sagemaker:variant:DesiredInstanceCount',
  };
}

/**
 * Reads the scalable targets of the endpoint's variants (one DescribeScalableTargets) and the policy of
 * each registered one (one DescribeScalingPolicies each).
 */
export async function readScaling(
  context: AdapterContext,
  endpoint: string,
  variants: readonly string[],
  signal: AbortSignal | undefined,
): Promise<VariantScaling[]> {
  if (variants.length === 0) return [];
  const byResource = new Map<string, ScalableTarget>();
  const targets = context.aws.items(
    'autoScaling',
    'DescribeScalableTargets',
    ({ module, client }, abortSignal) =>
      module.paginateDescribeScalableTargets(
        { client, stopOnSameToken: true },
        {
          ServiceNamespace: 'sagemaker',
          ResourceIds: variants.map((variant) => variantResourceId(endpoint, variant)),
          ScalableDimension: scalableDimension,
        },
        { abortSignal },
      ),
    (page) => ({ items: page.ScalableTargets, nextToken: page.NextToken }),
    signal,
  );
  for await (const target of targets) if (target.ResourceId) byResource.set(target.ResourceId, target);
  const scaling: VariantScaling[] = [];
  for (const variant of variants) {
    const target = byResource.get(variantResourceId(endpoint, variant));
    if (!target) {
      scaling.push({ variant });
      continue;
    }
    const policies = await context.aws.call(
      'autoScaling',
      'DescribeScalingPolicies',
      ({ module, client }, abortSignal) =>
        client.send(
          new module.DescribeScalingPoliciesCommand({
            ...targetOf(endpoint, variant),
            PolicyNames: [scalingPolicyName],
          }),
          { abortSignal },
        ),
      signal,
    );
    const policy = policies.ScalingPolicies?.[0];
    scaling.push({ variant, target, ...(policy ? { policy } : {}) });
  }
  return scaling;
}

/** The policy in force on a variant, in mlscale's terms (`recorded` supplies what AWS has no field for). */
export function policyInForce(
  scaling: VariantScaling,
  recorded: AutoscalingPolicy | undefined,
): AutoscalingPolicy | undefined {
  return scaling.target ? policyFromAutoScaling(scaling.target, scaling.policy, recorded) : undefined;
}

/** Whether a variant's registration is `policy` (bounds, metric, target value and cooldowns). */
export function scalingMatches(scaling: VariantScaling, policy: AutoscalingPolicy): boolean {
  const inForce = policyInForce(scaling, policy);
  return (
    inForce !== undefined &&
    inForce.minReplicas === policy.minReplicas &&
    inForce.maxReplicas === policy.maxReplicas &&
    inForce.target.metric === policy.target.metric &&
    Math.abs(inForce.target.value - policy.target.value) <= 1e-9 * Math.max(1, policy.target.value) &&
    inForce.scaleInCooldownSeconds === policy.scaleInCooldownSeconds &&
    inForce.scaleOutCooldownSeconds === policy.scaleOutCooldownSeconds
  );
}

/** Whether a variant has anything registered (a target, or a policy left without one). */
export function isRegistered(scaling: VariantScaling): boolean {
  return scaling.target !== undefined || scaling.policy !== undefined;
}

/**
 * Puts target tracking on a variant: RegisterScalableTarget (bounds), then PutScalingPolicy. Both are
 * upserts, so repeating them is safe.
 */
export async function registerScaling(
  context: AdapterContext,
  endpoint: string,
  variant: string,
  policy: AutoscalingPolicy,
  signal: AbortSignal | undefined,
): Promise<void> {
  await context.aws.call(
    'autoScaling',
    'RegisterScalableTarget',
    ({ module, client }, abortSignal) =>
      client.send(
        new module.RegisterScalableTargetCommand({
          ...targetOf(endpoint, variant),
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

/**
 * Removes a variant's autoscaling: DeregisterScalableTarget, which deletes the target's policies with
 * it (a policy without a target cannot exist, but one would go with DeleteScalingPolicy). What is
 * already gone is fine.
 */
export async function deregisterScaling(
  context: AdapterContext,
  endpoint: string,
  scaling: VariantScaling,
  signal: AbortSignal | undefined,
): Promise<void> {
  const target = targetOf(endpoint, scaling.variant);
  if (scaling.target) {
    await context.aws.find(
      'autoScaling',
      'DeregisterScalableTarget',
      ({ module, client }, abortSignal) =>
        client.send(new module.DeregisterScalableTargetCommand(target), { abortSignal }),
      signal,
    );
  } else if (scaling.policy) {
    await context.aws.find(
      'autoScaling',
      'DeleteScalingPolicy',
      ({ module, client }, abortSignal) =>
        client.send(new module.DeleteScalingPolicyCommand({ ...target, PolicyName: scalingPolicyName }), {
          abortSignal,
        }),
      signal,
    );
  }
}
