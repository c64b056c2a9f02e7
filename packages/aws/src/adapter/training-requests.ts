import type { CreateTrainingJobCommandInput } from '@aws-sdk/client-sagemaker';
import { MlscaleError, type TrainingJobSpec } from '@mlscale/core';
import type { TrainingAwsOptions } from './provider-options.js';
import type { AwsTag } from './resource-tags.js';

const inputModes = { copy: 'File', link: 'FastFile', stream: 'Pipe' } as const;
/** SageMaker's default and longest allowed runtime: one day and 28 days. */
const defaultMaxRuntimeSeconds = 86_400;

const gpuTrainingInstances: Record<number, string> = {
  1: 'ml.g5.xlarge',
  4: 'ml.g5.12xlarge',
  8: 'ml.p4d.24xlarge',
};

export interface TrainingRequestInput {
  spec: TrainingJobSpec;
  options: TrainingAwsOptions;
  roleArn: string;
  /** Each channel's S3 URI (local inputs uploaded already). */
  channelUris: Record<string, string>;
  outputPath: string;
  checkpointUri?: string;
  defaultInstanceType: string;
  tags: AwsTag[];
}

/**
 * CreateTrainingJob from the common training spec: the image and its entrypoint, channels, output,
 * string hyperparameters, instances, torch distribution through the environment, managed spot with
 * MaxWaitTimeInSeconds and checkpoints, VPC and KMS.
 */
export function createTrainingJobRequest(input: TrainingRequestInput): CreateTrainingJobCommandInput {
  const { spec, options } = input;
  if (!spec.image) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider: 'aws',
      message: 'image: SageMaker runs training in a container; give the training image (an ECR image URI).',
      issues: [{ path: 'image', message: 'expected a container image URI' }],
    });
  }
  const nodes = spec.distribution?.nodes ?? spec.resources.instanceCount;
  if (
    spec.distribution &&
    spec.resources.instanceCount > 1 &&
    spec.distribution.nodes !== spec.resources.instanceCount
  ) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider: 'aws',
      message: `distribution.nodes (${spec.distribution.nodes}) differs from resources.instanceCount (${spec.resources.instanceCount}); on SageMaker each node is one instance.`,
      issues: [{ path: 'distribution.nodes', message: 'expected the same as resources.instanceCount' }],
    });
  }
  const instanceType =
    spec.resources.instanceType ??
    (spec.resources.gpus > 0 ? gpuTrainingInstances[spec.resources.gpus] : input.defaultInstanceType);
  if (!instanceType) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      provider: 'aws',
      message: `resources.gpus: no default SageMaker instance has ${spec.resources.gpus} GPUs; set resources.instanceType.`,
    });
  }
  const processesPerNode = spec.distribution?.processesPerNode ?? 1;
  const distributed = nodes * processesPerNode > 1;
  // SageMaker requires MaxWaitTimeInSeconds ≥ MaxRuntimeInSeconds: a spot job without its own runtime
  // limit runs at most as long as it may wait.
  const maxRuntime =
    spec.maxRuntimeSeconds ??
    (spec.spot ? Math.min(defaultMaxRuntimeSeconds, spec.spot.maxWaitSeconds) : defaultMaxRuntimeSeconds);
  const hyperparameters: Record<string, string> = Object.fromEntries(
    Object.entries(spec.hyperparameters).map(([key, value]) => [key, String(value)]),
  );
  // The SageMaker PyTorch toolkit launches torchrun when this is set, as the Python SDK's
  // `distribution={"torch_distributed": {"enabled": True}}` does.
  if (distributed) hyperparameters.sagemaker_torch_distributed_enabled = 'true';
  const environment: Record<string, string> = {
    ...spec.environment,
    ...(distributed
      ? {
          MLSCALE_NPROC_PER_NODE: String(processesPerNode),
          MLSCALE_NNODES: String(nodes),
          MLSCALE_DISTRIBUTION: 'torch',
        }
      : {}),
  };
  const [entrypoint, ...argumentsList] = spec.command ?? [];
  return {
    TrainingJobName: spec.name,
    RoleArn: input.roleArn,
    AlgorithmSpecification: {
      TrainingImage: spec.image,
      TrainingInputMode: 'File',
      ...(entrypoint ? { ContainerEntrypoint: [entrypoint] } : {}),
      ...(argumentsList.length ? { ContainerArguments: argumentsList } : {}),
      ...(spec.metricDefinitions.length
        ? {
            MetricDefinitions: spec.metricDefinitions.map((definition) => ({
              Name: definition.name,
              Regex: definition.regex,
            })),
          }
        : {}),
    },
    HyperParameters: hyperparameters,
    InputDataConfig: Object.entries(spec.inputs).map(([channel, source]) => ({
      ChannelName: channel,
      DataSource: {
        S3DataSource: {
          S3DataType: 'S3Prefix',
          S3Uri: input.channelUris[channel]!,
          S3DataDistributionType: 'FullyReplicated',
        },
      },
      InputMode: inputModes[source.mode],
      ...(source.contentType ? { ContentType: source.contentType } : {}),
    })),
    OutputDataConfig: {
      S3OutputPath: input.outputPath,
      ...(options.kmsKeyId ? { KmsKeyId: options.kmsKeyId } : {}),
    },
    ResourceConfig: {
      InstanceType: instanceType as never,
      InstanceCount: nodes,
      VolumeSizeInGB: options.volumeSizeGb,
      ...(options.kmsKeyId ? { VolumeKmsKeyId: options.kmsKeyId } : {}),
    },
    StoppingCondition: {
      MaxRuntimeInSeconds: maxRuntime,
      ...(spec.spot ? { MaxWaitTimeInSeconds: spec.spot.maxWaitSeconds } : {}),
    },
    ...(spec.spot
      ? {
          EnableManagedSpotTraining: true,
          ...(input.checkpointUri
            ? { CheckpointConfig: { S3Uri: input.checkpointUri, LocalPath: '/opt/ml/checkpoints' } }
            : {}),
        }
      : {}),
    ...(options.subnets
      ? { VpcConfig: { Subnets: options.subnets, SecurityGroupIds: options.securityGroupIds ?? [] } }
      : {}),
    ...(options.enableNetworkIsolation !== undefined
      ? { EnableNetworkIsolation: options.enableNetworkIsolation }
      : {}),
    ...(Object.keys(environment).length ? { Environment: environment } : {}),
    ...(options.maximumRetryAttempts
      ? { RetryStrategy: { MaximumRetryAttempts: options.maximumRetryAttempts } }
      : {}),
    Tags: input.tags,
  };
}
