import { parseSpec } from '@mlscale/core';
import { z } from 'zod';

/** A VPC network as Vertex names it. */
const vpcNetworkSchema = z
  .string()
  .regex(/^projects\/[^/]+\/global\/networks\/[^/]+$/, 'expected projects/{number}/global/networks/{name}');

/** `providerOptions.gcp` of a deployment spec. */
export const gcpDeploymentOptionsSchema = z
  .object({
    /** The machine type, when `instance.type` is not set. */
    machineType: z.string().min(1).optional(),
    /** Serve on Spot VMs (cheaper, can be preempted). */
    spot: z.boolean().optional(),
    /** The VPC network of a private endpoint: `projects/{project number}/global/networks/{name}`. */
    network: vpcNetworkSchema.optional(),
    /** The service account the serving container runs as. */
    serviceAccount: z.string().min(1).optional(),
    /** Writes request/response access logs to Cloud Logging. */
    enableAccessLogging: z.boolean().optional(),
    /** A serving image for this deployment, instead of the backend's. */
    servingImage: z.string().min(1).optional(),
  })
  .strict();
export type GcpDeploymentOptions = z.infer<typeof gcpDeploymentOptionsSchema>;

/** `providerOptions.gcp` of a training job spec. */
export const gcpTrainingOptionsSchema = z
  .object({
    /** The accelerator type for `resources.gpus` (`NVIDIA_TESLA_T4`, `NVIDIA_L4`, ...). */
    acceleratorType: z
      .string()
      .regex(/^[A-Z0-9_]+$/, 'expected an AcceleratorType name such as NVIDIA_TESLA_T4')
      .optional(),
    /** The service account the job runs as. */
    serviceAccount: z.string().min(1).optional(),
    /** The VPC network to peer with: `projects/{project number}/global/networks/{name}`. */
    network: vpcNetworkSchema.optional(),
    /** Restart the job when a worker restarts (default: true for spot jobs, false otherwise). */
    restartJobOnWorkerRestart: z.boolean().optional(),
    /** Boot disk size per replica, in GB. */
    bootDiskSizeGb: z.number().int().min(100).max(64_000).optional(),
  })
  .strict();
export type GcpTrainingOptions = z.infer<typeof gcpTrainingOptionsSchema>;

export function deploymentOptions(options: Record<string, unknown> | undefined): GcpDeploymentOptions {
  return parseSpec(gcpDeploymentOptionsSchema, options ?? {}, 'providerOptions.gcp of the deployment');
}

export function trainingOptions(options: Record<string, unknown> | undefined): GcpTrainingOptions {
  return parseSpec(gcpTrainingOptionsSchema, options ?? {}, 'providerOptions.gcp of the training job');
}
