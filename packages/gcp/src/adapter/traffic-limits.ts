import type { DeploymentSpec, SpecIssue } from '@mlscale/core';
import { fractionalTrafficIssues, specRefusal } from '@mlscale/core/provider-utils';
import { provider } from './errors.js';

/**
 * Vertex AI's limits on how traffic moves, for `validateSpec`. Endpoint.traffic_split is
 * `map<string, int32>`: "A map from a DeployedModel's ID to the percentage of this Endpoint's traffic
 * that should be forwarded to that DeployedModel. ... The traffic percentage values must add up to 100,
 * or map must be empty if the Endpoint is to not accept any traffic at a moment" (endpoint.proto,
 * Endpoint.traffic_split); DeployModelRequest.traffic_split and UndeployModelRequest.traffic_split are
 * the same map ("The traffic percentage values must add up to 100"). So every share mlscale sends is a
 * whole percentage: a rollout step or a traffic weight with a fraction (the spec schema allows 12.5)
 * cannot be sent as it is, and is refused rather than rounded behind the caller's back. The schema
 * already holds weights to a sum of 100 and steps to 0 < step ≤ 100, ending at 100; the wait between
 * steps is mlscale's own (Vertex has no rollout of its own to bound it).
 */
export function trafficIssues(spec: DeploymentSpec): SpecIssue[] {
  return fractionalTrafficIssues(
    spec,
    "Vertex AI's Endpoint.traffic_split takes whole percentages (map<string, int32>) adding up to 100",
  );
}

/**
 * Throws `InvalidSpec` with every issue `trafficIssues` finds: what doCreate and doUpdate check before
 * any Vertex call, for callers that reach the backend without the client (which checks the same first).
 */
export function assertTrafficExpressible(spec: DeploymentSpec): void {
  const issues = trafficIssues(spec);
  if (issues.length > 0) throw specRefusal(provider, spec.name, issues);
}
