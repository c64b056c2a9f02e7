import { MlscaleError, parseSpec } from '@mlscale/core';
import { z } from 'zod';

/** `providerOptions.aws` of a deployment spec. */
export const deploymentAwsOptionsSchema = z
  .object({
    /** The serving image, instead of the `servingImage` setting. */
    image: z.string().min(1).optional(),
    /** The execution role, instead of the `roleArn` setting. */
    roleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'expected an IAM role ARN')
      .optional(),
    /** No network access from the container (SageMaker EnableNetworkIsolation). */
    enableNetworkIsolation: z.boolean().optional(),
    /** Capture requests and responses to S3 (SageMaker DataCaptureConfig). */
    dataCapture: z
      .object({
        destinationS3Uri: z.string().regex(/^s3:\/\/[^/]+/, 'expected an s3:// URI'),
        samplingPercentage: z.number().int().min(0).max(100).default(100),
        captureModes: z
          .array(z.enum(['Input', 'Output']))
          .min(1)
          .default(['Input', 'Output']),
      })
      .strict()
      .optional(),
    /** Serverless provisioned concurrency (warm capacity). */
    provisionedConcurrency: z.number().int().min(1).max(200).optional(),
    /** Seconds the container may take to answer /ping at startup (60–3600). */
    containerStartupTimeoutSeconds: z.number().int().min(60).max(3600).optional(),
    /** More CloudWatch alarms that roll a canary update back, besides the error-rate alarm mlscale creates. */
    rollbackAlarms: z.array(z.string().min(1)).max(10).optional(),
  })
  .strict();
export type DeploymentAwsOptions = z.infer<typeof deploymentAwsOptionsSchema>;

/** `providerOptions.aws` of a training job spec. */
export const trainingAwsOptionsSchema = z
  .object({
    roleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'expected an IAM role ARN')
      .optional(),
    /** Subnets and security groups for the training instances. */
    subnets: z.array(z.string().min(1)).min(1).optional(),
    securityGroupIds: z.array(z.string().min(1)).min(1).optional(),
    /** KMS key for the output and the instances' volumes. */
    kmsKeyId: z.string().min(1).optional(),
    volumeSizeGb: z.number().int().min(1).max(16_384).default(30),
    enableNetworkIsolation: z.boolean().optional(),
    /** Attempts SageMaker makes after an internal failure (RetryStrategy). */
    maximumRetryAttempts: z.number().int().min(1).max(30).optional(),
  })
  .strict()
  .refine((options) => Boolean(options.subnets) === Boolean(options.securityGroupIds), {
    message: 'expected subnets and securityGroupIds together (SageMaker VpcConfig needs both)',
    path: ['subnets'],
  });
export type TrainingAwsOptions = z.infer<typeof trainingAwsOptionsSchema>;

export function deploymentAwsOptions(
  providerOptions: { aws?: Record<string, unknown> } | undefined,
): DeploymentAwsOptions {
  return parseSpec(deploymentAwsOptionsSchema, providerOptions?.aws ?? {}, 'deployment providerOptions.aws');
}

export function trainingAwsOptions(
  providerOptions: { aws?: Record<string, unknown> } | undefined,
): TrainingAwsOptions {
  return parseSpec(trainingAwsOptionsSchema, providerOptions?.aws ?? {}, 'training providerOptions.aws');
}

/** The execution role a deployment or job runs as: its own, else the setting's; InvalidSpec when neither is set. */
export function requireExecutionRole(ownRole: string | undefined, settingsRole: string | undefined): string {
  const role = ownRole ?? settingsRole;
  if (!role) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider: 'aws',
      message:
        'roleArn: SageMaker needs an execution role; set roleArn in sagemaker() settings (or MLSCALE_SAGEMAKER_ROLE_ARN), or providerOptions.aws.roleArn.',
      issues: [{ path: 'roleArn', message: 'expected an IAM role ARN' }],
    });
  }
  return role;
}
