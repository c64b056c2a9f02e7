import type { DeploymentSpec, SpecIssue } from '@mlscale/core';
import { fractionalTrafficIssues, specRefusal } from '@mlscale/core/provider-utils';
import { provider } from './to-mlscale-error.js';

/**
 * What an online endpoint's traffic map cannot express, for `validateSpec` and for `doCreate`/`doUpdate`
 * (a direct backend caller bypasses the client). Every reconcile step PUTs the endpoint with a
 * `properties.traffic` map, which Azure types as integer percentages per deployment adding up to 100
 * ("Traffic values need to sum to 100.", OnlineEndpointProperties in the Azure ML REST reference and
 * @azure/arm-machinelearning): a fractional weight or rollout step has no map, so it is refused here
 * rather than rounded. Mirror traffic (at most 50 in all, only to a deployment without live traffic) is
 * never sent: `providerOptions.azure.mirrorTraffic` is refused as Unsupported by `deploymentOptions`.
 */
export function trafficLimitIssues(spec: DeploymentSpec): SpecIssue[] {
  const issues = fractionalTrafficIssues(
    spec,
    "Azure ML's endpoint traffic map (properties.traffic) takes integer percentages per deployment adding up to 100",
  );
  const weights = (spec.traffic ?? []).map((entry) => entry.weight);
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  // The spec schema already asks for 100; a direct backend caller may not have parsed the spec.
  if (weights.length > 0 && total !== 100) {
    issues.push({
      path: 'traffic',
      message: `expected weights adding up to 100, got ${total}: Azure ML's endpoint traffic map (properties.traffic) must sum to 100 (0 only while an endpoint has no deployments)`,
    });
  }
  return issues;
}

/** Throws `InvalidSpec` with `trafficLimitIssues`, in the words the client's `validateSpec` check uses. */
export function assertTrafficLimits(spec: DeploymentSpec): void {
  const issues = trafficLimitIssues(spec);
  if (issues.length > 0) throw specRefusal(provider, spec.name, issues);
}
