import { type DeploymentSpec, MlscaleError, parseSpec } from '@mlscale/core';
import { z } from 'zod';
import { provider } from './to-mlscale-error.js';

/** `providerOptions.azure` of a deployment spec. */
export const azureDeploymentOptionsSchema = z
  .object({
    /** How callers authenticate: endpoint keys, short-lived AML tokens, or Microsoft Entra tokens. */
    authMode: z.enum(['key', 'amlToken', 'aadToken']).optional(),
    /** An existing environment (ARM id) instead of the mlscale server image. */
    environmentId: z.string().min(1).optional(),
    /** Per-request timeout on the endpoint (Azure allows up to 180 000 ms). */
    requestTimeoutMs: z.number().int().min(1).max(180_000).optional(),
    /** Requests one instance serves at once; more wait in Azure's queue or get 429. */
    maxConcurrentRequestsPerInstance: z.number().int().min(1).max(1000).optional(),
    /** How long a request may wait in Azure's queue. */
    maxQueueWaitMs: z.number().int().min(1).optional(),
    /** Send request logs and metrics to the workspace's Application Insights. */
    appInsightsEnabled: z.boolean().optional(),
    /** Mirror (shadow) traffic percentages per model; not in the 2022-10-01 API this package speaks. */
    mirrorTraffic: z.record(z.string(), z.number()).optional(),
  })
  .strict();

export type AzureDeploymentOptions = z.infer<typeof azureDeploymentOptionsSchema>;

/** Validates `spec.providerOptions.azure`, naming bad fields by their full path. */
export function deploymentOptions(spec: DeploymentSpec): AzureDeploymentOptions {
  const parsed = parseSpec(
    z.object({ azure: azureDeploymentOptionsSchema.default({}) }),
    { azure: spec.providerOptions?.azure },
    'deployment spec providerOptions',
  ).azure;
  if (parsed.mirrorTraffic !== undefined) {
    throw new MlscaleError({
      code: 'Unsupported',
      provider,
      message:
        'providerOptions.azure.mirrorTraffic: mirror traffic arrived in Azure ML API 2023-04-01; this package speaks 2022-10-01 (@azure/arm-machinelearning 2.1.1). Remove it.',
    });
  }
  const reserved = Object.keys(spec.tags ?? {}).filter((name) => name.toLowerCase().startsWith('mlscale-'));
  if (reserved.length > 0) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider,
      message: `Invalid deployment spec: tags: ${reserved.join(', ')}: tags starting with 'mlscale-' are mlscale's own (the deployment record lives in them). Rename them.`,
      issues: reserved.map((name) => ({
        path: `tags.${name}`,
        message: "expected a tag not starting with 'mlscale-'",
      })),
    });
  }
  if (spec.autoscaling && spec.autoscaling.minReplicas < 1) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider,
      message:
        'Invalid deployment spec: autoscaling.minReplicas: Azure managed online deployments run at least 1 instance; Azure Monitor cannot scale them to 0.',
      issues: [{ path: 'autoscaling.minReplicas', message: 'expected at least 1 on Azure' }],
    });
  }
  if (spec.network?.subnets?.length || spec.network?.securityGroups?.length) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider,
      message:
        'Invalid deployment spec: network: managed online endpoints take no subnets or security groups; isolation comes from the workspace managed network. Use network.private alone.',
      issues: [{ path: 'network', message: 'expected only network.private on Azure' }],
    });
  }
  const minimum = spec.autoscaling ? Math.max(spec.autoscaling.minReplicas, spec.replicas) : spec.replicas;
  if (minimum < 1) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider,
      message: 'Invalid deployment spec: replicas: Azure managed online deployments run at least 1 instance.',
      issues: [{ path: 'replicas', message: 'expected at least 1 on Azure' }],
    });
  }
  return parsed;
}
