import type {
  CreateEndpointConfigCommandInput,
  CreateModelCommandInput,
  DeploymentConfig,
} from '@aws-sdk/client-sagemaker';
import { type DeploymentSpec, MlscaleError, type ModelReference } from '@mlscale/core';
import type { DeploymentAwsOptions } from './provider-options.js';
import { type DeploymentResourceNames, rollbackAlarmName } from './resource-names.js';
import type { AwsTag } from './resource-tags.js';
import { translateRollout } from './rollout-translation.js';
import { sageMakerRefusal } from './sagemaker-spec-limits.js';

/** GPU instance families by accelerator type, and the size that holds N GPUs. */
const gpuInstances: Record<string, Record<number, string>> = {
  gpu: { 1: 'ml.g5.xlarge', 4: 'ml.g5.12xlarge', 8: 'ml.g5.48xlarge' },
  'nvidia-a10g': { 1: 'ml.g5.xlarge', 4: 'ml.g5.12xlarge', 8: 'ml.g5.48xlarge' },
  'nvidia-tesla-t4': { 1: 'ml.g4dn.xlarge', 4: 'ml.g4dn.12xlarge' },
  'nvidia-l4': { 1: 'ml.g6.xlarge', 4: 'ml.g6.12xlarge', 8: 'ml.g6.48xlarge' },
  'nvidia-a100': { 8: 'ml.p4d.24xlarge' },
  'nvidia-h100': { 8: 'ml.p5.48xlarge' },
};

/** The instance type a deployment runs on. */
export function instanceTypeFor(spec: DeploymentSpec, defaultType: string): string {
  if (spec.instance?.type) return spec.instance.type;
  const accelerator = spec.instance?.accelerator;
  if (!accelerator) return defaultType;
  const type = gpuInstances[accelerator.type]?.[accelerator.count];
  if (!type) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider: 'aws',
      message: `instance.accelerator: no SageMaker instance is known for ${accelerator.count} × ${accelerator.type}; set instance.type (for example ml.g5.12xlarge).`,
    });
  }
  return type;
}

/** Each production variant's model and weight: the traffic split, or all traffic to `model`. */
export function variantModels(spec: DeploymentSpec): { model: ModelReference; weight: number }[] {
  return spec.traffic
    ? spec.traffic.map((entry) => ({ model: entry.model, weight: entry.weight }))
    : [{ model: spec.model, weight: 100 }];
}

/** The container's model data: a tar.gz as ModelDataUrl, anything else as uncompressed S3 data. */
function modelData(
  url: string,
): Pick<NonNullable<CreateModelCommandInput['PrimaryContainer']>, 'ModelDataUrl' | 'ModelDataSource'> {
  if (url.endsWith('.tar.gz')) return { ModelDataUrl: url };
  return {
    ModelDataSource: {
      S3DataSource: {
        S3Uri: url,
        S3DataType: url.endsWith('/') ? 'S3Prefix' : 'S3Object',
        CompressionType: 'None',
      },
    },
  };
}

/** The container environment: the spec's, plus what the mlscale server reads. */
function containerEnvironment(spec: DeploymentSpec, format: string): Record<string, string> {
  return {
    ...spec.environment,
    MLSCALE_MODEL_FORMAT: format,
    ...(spec.batching ? { MLSCALE_BATCHING: JSON.stringify(spec.batching) } : {}),
  };
}

export interface DeploymentRequestsInput {
  spec: DeploymentSpec;
  names: DeploymentResourceNames;
  /** The S3 URL of each variant's model (uploaded already). */
  modelDataUrls: string[];
  image: string;
  roleArn: string;
  instanceType: string;
  options: DeploymentAwsOptions;
  /** mlscale's tags (deployment, spec hash, spec chunks) plus the user's. */
  tags: AwsTag[];
}

/** CreateModel requests, one per variant. */
export function createModelRequests(input: DeploymentRequestsInput): CreateModelCommandInput[] {
  const { spec, names } = input;
  const network = spec.network;
  if (
    Boolean(network?.subnets?.length) !== Boolean(network?.securityGroups?.length) ||
    (network?.private && !network.subnets?.length)
  ) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider: 'aws',
      message:
        'network: SageMaker places a model in a VPC with both subnets and securityGroups; give both (a private deployment needs them).',
    });
  }
  return variantModels(spec).map(({ model }, index) => ({
    ModelName: names.models[index]!,
    PrimaryContainer: {
      Image: input.image,
      ...modelData(input.modelDataUrls[index]!),
      Environment: containerEnvironment(spec, 'format' in model ? model.format : 'onnx'),
    },
    ExecutionRoleArn: input.roleArn,
    ...(network?.subnets?.length
      ? { VpcConfig: { Subnets: network.subnets, SecurityGroupIds: network.securityGroups ?? [] } }
      : {}),
    ...(input.options.enableNetworkIsolation !== undefined
      ? { EnableNetworkIsolation: input.options.enableNetworkIsolation }
      : {}),
    Tags: input.tags,
  }));
}

/** The CreateEndpointConfig request: production variants (or serverless), KMS key and data capture. */
export function createEndpointConfigRequest(
  input: DeploymentRequestsInput,
): CreateEndpointConfigCommandInput {
  const { spec, names, options } = input;
  if (!spec.serverless && spec.replicas < 1) {
    throw new MlscaleError({
      code: 'Unsupported',
      provider: 'aws',
      message:
        'replicas: SageMaker real-time endpoints run at least one instance; use serverless for scale to zero, or delete the deployment.',
    });
  }
  return {
    EndpointConfigName: names.endpointConfig,
    ProductionVariants: variantModels(spec).map(({ weight }, index) => ({
      VariantName: names.variants[index]!,
      ModelName: names.models[index]!,
      InitialVariantWeight: weight,
      ...(spec.serverless
        ? {
            ServerlessConfig: {
              MemorySizeInMB: spec.serverless.memoryMb,
              MaxConcurrency: spec.serverless.maxConcurrency,
              ...(options.provisionedConcurrency
                ? { ProvisionedConcurrency: options.provisionedConcurrency }
                : {}),
            },
          }
        : {
            InstanceType: input.instanceType as never,
            InitialInstanceCount: spec.replicas,
            ...(options.containerStartupTimeoutSeconds
              ? { ContainerStartupHealthCheckTimeoutInSeconds: options.containerStartupTimeoutSeconds }
              : {}),
          }),
    })),
    ...(spec.encryption ? { KmsKeyId: spec.encryption.keyId } : {}),
    ...(options.dataCapture
      ? {
          DataCaptureConfig: {
            EnableCapture: true,
            InitialSamplingPercentage: options.dataCapture.samplingPercentage,
            DestinationS3Uri: options.dataCapture.destinationS3Uri,
            CaptureOptions: options.dataCapture.captureModes.map((mode) => ({ CaptureMode: mode })),
            ...(spec.encryption ? { KmsKeyId: spec.encryption.keyId } : {}),
          },
        }
      : {}),
    Tags: input.tags,
  };
}

/**
 * UpdateEndpoint's blue/green deployment config (see `rollout-translation.ts`): without a rollout or
 * with steps [100], all at once; [c, 100] a canary of c%; equal steps [s, 2s, …, 100] linear steps of
 * s%; with a rollout, the error-rate alarm rolls it back. A spec SageMaker cannot express was refused
 * before (`sageMakerSpecIssues`); here it throws the same InvalidSpec rather than send it.
 */
export function blueGreenDeploymentConfig(
  spec: DeploymentSpec,
  options: DeploymentAwsOptions,
): DeploymentConfig {
  const rollout = spec.rollout;
  if (!rollout) {
    return {
      BlueGreenUpdatePolicy: {
        TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 },
        TerminationWaitInSeconds: 0,
      },
    };
  }
  const translated = translateRollout(rollout);
  if (Array.isArray(translated)) throw sageMakerRefusal(spec.name, translated);
  return {
    BlueGreenUpdatePolicy: {
      TrafficRoutingConfiguration: translated.routing,
      TerminationWaitInSeconds: translated.terminationWaitSeconds,
      ...(translated.maximumExecutionSeconds !== undefined
        ? { MaximumExecutionTimeoutInSeconds: translated.maximumExecutionSeconds }
        : {}),
    },
    AutoRollbackConfiguration: { Alarms: rollbackAlarms(spec.name, options) },
  };
}

function rollbackAlarms(name: string, options: DeploymentAwsOptions): { AlarmName: string }[] {
  return [rollbackAlarmName(name), ...(options.rollbackAlarms ?? [])].map((AlarmName) => ({ AlarmName }));
}
