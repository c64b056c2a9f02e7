import type { DescribeEndpointCommandOutput } from '@aws-sdk/client-sagemaker';
import { type DeploymentSpec, MlscaleError } from '@mlscale/core';
import { fleetNames } from './deployment-fleet.js';

/*
 * "When doing a blue/green or rolling deployment, your new endpoint configuration must have the same
 * variant name as the old endpoint configuration" (SageMaker Developer Guide, deployment guardrails,
 * Exclusions). One model runs as the variant AllTraffic and a split as variant-1 … variant-N, so a
 * change between one model and a split, or between splits over different numbers of models, changes
 * the variants: no name can be kept for a variant that is added or removed. Such an update is sent
 * without a DeploymentConfig (SageMaker switches the endpoint to the new config at once), so it may
 * not ask for canary or linear steps.
 */

function sorted(names: readonly string[]): string {
  return [...names].sort().join(', ');
}

/** The running variants' names and those `desired` runs on, when they differ (unknown while none run). */
export function variantChange(
  desired: DeploymentSpec,
  endpoint: DescribeEndpointCommandOutput,
): { running: string; next: string } | undefined {
  const running = (endpoint.ProductionVariants ?? []).map((variant) => variant.VariantName ?? '');
  if (running.length === 0) return undefined;
  const next = fleetNames(desired).variants;
  return sorted(running) === sorted(next) ? undefined : { running: sorted(running), next: sorted(next) };
}

/** Refuses, with InvalidSpec, an update that changes the variants and asks for traffic-shifting steps. */
export function refuseSteppedVariantChange(
  desired: DeploymentSpec,
  endpoint: DescribeEndpointCommandOutput,
): void {
  const change = variantChange(desired, endpoint);
  const steps = desired.rollout?.steps;
  if (!change || !steps || steps.length === 1) return;
  throw new MlscaleError({
    code: 'InvalidSpec',
    provider: 'aws',
    message: `Update of '${desired.name}' refused: it changes the endpoint's production variants (${change.running} → ${change.next}: one model and a traffic split, or splits over different numbers of models), and SageMaker's blue/green traffic shifting needs the new endpoint config to keep the variant names. Use rollout.steps: [100] (switched at once), or no rollout.`,
    issues: [
      {
        path: 'rollout.steps',
        message: `expected [100] or no rollout: the production variants change (${change.running} → ${change.next}), which SageMaker's canary and linear traffic shifting do not allow`,
      },
    ],
  });
}
