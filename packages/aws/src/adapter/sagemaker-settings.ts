import type { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SageMakerClient, SageMakerClientConfig } from '@aws-sdk/client-sagemaker';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { parseSpec } from '@mlscale/core';
import { z } from 'zod';

/** Pre-built SDK clients, for users with their own configuration (proxies, custom retry, ...). */
export interface SageMakerClients {
  sageMaker?: SageMakerClient;
  runtime?: SageMakerRuntimeClient;
  applicationAutoScaling?: ApplicationAutoScalingClient;
  cloudWatch?: CloudWatchClient;
  cloudWatchLogs?: CloudWatchLogsClient;
  s3?: S3Client;
}

/** Settings of `sagemaker()`. Each falls back to an environment variable, then to the AWS SDK's defaults. */
export interface SageMakerSettings {
  /** The AWS region. Env: `AWS_REGION`, `AWS_DEFAULT_REGION`. */
  region?: string;
  /** The execution role SageMaker assumes for models and training jobs. Env: `MLSCALE_SAGEMAKER_ROLE_ARN`. */
  roleArn?: string;
  /** One URL for every client (the emulator, or a VPC endpoint). Env: `AWS_ENDPOINT_URL`. */
  endpoint?: string;
  /** Credentials; default: the AWS SDK's default provider chain (environment, profile, SSO, instance role, ...). */
  credentials?: SageMakerClientConfig['credentials'];
  /** Pre-built clients; any not given is created from the settings above. */
  clients?: SageMakerClients;
  /** The serving container image (the mlscale server image in ECR). Env: `MLSCALE_SAGEMAKER_IMAGE`. */
  servingImage?: string;
  /** Where local model files and training inputs are uploaded. Env: `MLSCALE_S3_BUCKET`. */
  artifactBucket?: string;
  /** Key prefix in that bucket. Default `mlscale`. */
  artifactPrefix?: string;
  /** The S3 endpoint, when S3 is served elsewhere than `endpoint` (an S3 test server). Env: `AWS_ENDPOINT_URL_S3`. */
  s3Endpoint?: string;
  /** Path-style S3 addressing (test servers need it). Default: true when an S3 endpoint is set. */
  s3ForcePathStyle?: boolean;
  /** Instance type when a deployment names none. Default `ml.m5.large`. */
  instanceType?: string;
  /** Instance type when a training job names none. Default `ml.m5.xlarge`. */
  trainingInstanceType?: string;
  /**
   * Attempts the SDK clients this backend creates make per request. Default 1: the client's retry
   * policy (`createMlscale({ retry })`, 5 attempts by default) is the one retry layer, so a request is
   * sent at most `retry.maxAttempts` times. A larger value multiplies that budget (each of the client's
   * attempts then makes up to `maxAttempts` requests). Pre-built `clients` keep their own setting.
   */
  maxAttempts?: number;
  /** How often followed logs poll. Default every 2 s. (Deployment waits are the client's: `createMlscale({ polling })`.) */
  polling?: { logIntervalMs?: number };
  /**
   * Garbage collection of a deployment's old endpoint configs and models. `minimumAgeSeconds`: what was
   * made more recently than this is kept, though no record wants it yet (another process may have made
   * it for an update it is about to record). Default 300 (5 minutes).
   */
  garbageCollection?: { minimumAgeSeconds?: number };
}

const urlSchema = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

const settingsSchema = z
  .object({
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected an AWS region such as us-east-1')
      .optional(),
    roleArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/,
        'expected an IAM role ARN (arn:aws:iam::123456789012:role/NAME)',
      )
      .optional(),
    endpoint: urlSchema.optional(),
    credentials: z.unknown().optional(),
    clients: z
      .object({
        sageMaker: z.unknown().optional(),
        runtime: z.unknown().optional(),
        applicationAutoScaling: z.unknown().optional(),
        cloudWatch: z.unknown().optional(),
        cloudWatchLogs: z.unknown().optional(),
        s3: z.unknown().optional(),
      })
      .strict()
      .optional(),
    servingImage: z.string().min(1).optional(),
    artifactBucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name')
      .optional(),
    artifactPrefix: z
      .string()
      .regex(/^[A-Za-z0-9!_.*'()/-]*$/, 'expected an S3 key prefix')
      .optional(),
    s3Endpoint: urlSchema.optional(),
    s3ForcePathStyle: z.boolean().optional(),
    instanceType: z
      .string()
      .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, 'expected a SageMaker instance type such as ml.m5.large')
      .optional(),
    trainingInstanceType: z
      .string()
      .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, 'expected a SageMaker instance type such as ml.m5.xlarge')
      .optional(),
    maxAttempts: z.number().int().min(1).max(20).optional(),
    retry: z
      .never({
        error:
          'the adapter no longer retries: set retry on the client, createMlscale({ backend, retry }), the one retry layer',
      })
      .optional(),
    polling: z
      .object({
        logIntervalMs: z.number().min(1).optional(),
        minDelayMs: z
          .never({
            error: "deployment waits are the client's: set createMlscale({ polling: { minDelayMs } })",
          })
          .optional(),
        maxDelayMs: z
          .never({
            error: "deployment waits are the client's: set createMlscale({ polling: { maxDelayMs } })",
          })
          .optional(),
      })
      .strict()
      .optional(),
    garbageCollection: z
      .object({ minimumAgeSeconds: z.number().min(0).max(86_400).optional() })
      .strict()
      .optional(),
  })
  .strict();

/** Settings with environment fallbacks applied. */
export interface ResolvedSageMakerSettings extends SageMakerSettings {
  artifactPrefix: string;
  instanceType: string;
  trainingInstanceType: string;
  polling: { logIntervalMs: number };
  garbageCollection: { minimumAgeSeconds: number };
}

/** Validates settings (throwing `InvalidSpec` naming the field) and fills them from the environment. */
export function resolveSageMakerSettings(
  settings: SageMakerSettings = {},
  environment: NodeJS.ProcessEnv = process.env,
): ResolvedSageMakerSettings {
  const withEnvironment: SageMakerSettings = {
    ...settings,
    region: settings.region ?? environment.AWS_REGION ?? environment.AWS_DEFAULT_REGION,
    roleArn: settings.roleArn ?? environment.MLSCALE_SAGEMAKER_ROLE_ARN,
    endpoint: settings.endpoint ?? environment.AWS_ENDPOINT_URL,
    servingImage: settings.servingImage ?? environment.MLSCALE_SAGEMAKER_IMAGE,
    artifactBucket: settings.artifactBucket ?? environment.MLSCALE_S3_BUCKET,
    s3Endpoint: settings.s3Endpoint ?? environment.AWS_ENDPOINT_URL_S3,
  };
  for (const key of Object.keys(withEnvironment) as (keyof SageMakerSettings)[]) {
    if (withEnvironment[key] === undefined || withEnvironment[key] === '') delete withEnvironment[key];
  }
  parseSpec(settingsSchema, withEnvironment, 'sagemaker() settings');
  return {
    ...withEnvironment,
    artifactPrefix: (withEnvironment.artifactPrefix ?? 'mlscale').replace(/\/+$/, ''),
    instanceType: withEnvironment.instanceType ?? 'ml.m5.large',
    trainingInstanceType: withEnvironment.trainingInstanceType ?? 'ml.m5.xlarge',
    polling: { logIntervalMs: withEnvironment.polling?.logIntervalMs ?? 2000 },
    garbageCollection: {
      minimumAgeSeconds: withEnvironment.garbageCollection?.minimumAgeSeconds ?? 300,
    },
  };
}
