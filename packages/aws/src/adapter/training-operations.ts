import type { DescribeTrainingJobCommandOutput } from '@aws-sdk/client-sagemaker';
import {
  type CallOptionsV1,
  MlscaleError,
  parseSpec,
  resourceNameSchema,
  sealSecrets,
  secretHashKey,
  type TrainingJobSpec,
  type TrainingJobState,
  type TrainingJobStatus,
  type TrainingOperationsV1,
  trainingJobSpecSchema,
} from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import { isLocalPath, isS3Uri } from './artifact-locations.js';
import { readTags } from './deployment-observation.js';
import { requireExecutionRole, trainingAwsOptions } from './provider-options.js';
import { tagKeys, userTags } from './resource-tags.js';
import { specChunkTags, specFromChunkTags } from './spec-chunk-tags.js';
import { createTrainingJobRequest } from './training-requests.js';

/** Secondary statuses before the job's code runs. */
const pendingSecondary = new Set([
  'Starting',
  'Pending',
  'LaunchingMLInstances',
  'PreparingTrainingStack',
  'Restarting',
]);

/** SageMaker's job status (and secondary status) as core's job state. */
export function trainingState(status: string | undefined, secondary: string | undefined): TrainingJobState {
  switch (status) {
    case 'Completed':
      return 'Completed';
    case 'Failed':
      return 'Failed';
    case 'Stopped':
      return 'Stopped';
    case 'Stopping':
      return 'Stopping';
    default:
      return secondary && pendingSecondary.has(secondary) ? 'Pending' : 'Running';
  }
}

function synthesizedSpec(describe: DescribeTrainingJobCommandOutput): TrainingJobSpec {
  const parsed = trainingJobSpecSchema.safeParse({
    name: describe.TrainingJobName,
    image: describe.AlgorithmSpecification?.TrainingImage ?? 'unknown',
    hyperparameters: describe.HyperParameters ?? {},
    inputs: Object.fromEntries(
      (describe.InputDataConfig ?? []).map((channel) => [
        channel.ChannelName,
        { uri: channel.DataSource?.S3DataSource?.S3Uri ?? '' },
      ]),
    ),
    resources: {
      instanceType: describe.ResourceConfig?.InstanceType,
      instanceCount: describe.ResourceConfig?.InstanceCount ?? 1,
    },
  });
  return parsed.success
    ? parsed.data
    : ({
        name: describe.TrainingJobName ?? '',
        inputs: {},
        hyperparameters: {},
        environment: {},
        metricDefinitions: [],
        resources: { instanceCount: 1, gpus: 0 },
      } as TrainingJobSpec);
}

export function trainingStatus(
  describe: DescribeTrainingJobCommandOutput,
  spec: TrainingJobSpec,
): TrainingJobStatus {
  const transitions = describe.SecondaryStatusTransitions ?? [];
  // A job stopped by its own limits has no FailureReason; its last transition says which limit.
  const failureReason =
    describe.FailureReason ??
    (describe.SecondaryStatus === 'MaxRuntimeExceeded' || describe.SecondaryStatus === 'MaxWaitTimeExceeded'
      ? (transitions.at(-1)?.StatusMessage ?? describe.SecondaryStatus)
      : undefined);
  const finalMetrics = Object.fromEntries(
    (describe.FinalMetricDataList ?? [])
      .filter((metric) => metric.MetricName && typeof metric.Value === 'number')
      .map((metric) => [metric.MetricName!, metric.Value!]),
  );
  return {
    name: describe.TrainingJobName ?? spec.name,
    provider: 'aws',
    state: trainingState(describe.TrainingJobStatus, describe.SecondaryStatus),
    ...(describe.SecondaryStatus ? { secondaryStatus: describe.SecondaryStatus } : {}),
    ...(failureReason ? { failureReason } : {}),
    spec,
    createdAt: describe.CreationTime ?? new Date(0),
    ...(describe.TrainingStartTime ? { startedAt: describe.TrainingStartTime } : {}),
    ...(describe.TrainingEndTime ? { endedAt: describe.TrainingEndTime } : {}),
    ...(describe.TrainingTimeInSeconds !== undefined
      ? { trainingSeconds: describe.TrainingTimeInSeconds }
      : {}),
    ...(describe.BillableTimeInSeconds !== undefined
      ? { billableSeconds: describe.BillableTimeInSeconds }
      : {}),
    interruptions: transitions.filter((transition) => transition.Status === 'Interrupted').length,
    ...(describe.ModelArtifacts?.S3ModelArtifacts
      ? { modelUri: describe.ModelArtifacts.S3ModelArtifacts }
      : {}),
    ...(Object.keys(finalMetrics).length ? { finalMetrics } : {}),
    details: {
      trainingJobArn: describe.TrainingJobArn,
      managedSpot: describe.EnableManagedSpotTraining ?? false,
      secondaryStatusTransitions: transitions.map((transition) => ({
        status: transition.Status,
        startTime: transition.StartTime,
        endTime: transition.EndTime,
        message: transition.StatusMessage,
      })),
    },
  };
}

export function createTrainingOperations(context: AdapterContext): TrainingOperationsV1 {
  const { aws, settings } = context;

  async function read(name: string, signal?: AbortSignal): Promise<TrainingJobStatus | undefined> {
    const describe = await aws.find(
      'sageMaker',
      'DescribeTrainingJob',
      ({ module, client }, abortSignal) =>
        client.send(new module.DescribeTrainingJobCommand({ TrainingJobName: name }), { abortSignal }),
      signal,
    );
    if (!describe) return undefined;
    const tags = describe.TrainingJobArn ? await readTags(context, describe.TrainingJobArn, signal) : {};
    const recorded = trainingJobSpecSchema.safeParse(specFromChunkTags(tags));
    return trainingStatus(describe, recorded.success ? recorded.data : synthesizedSpec(describe));
  }

  function s3Default(what: string, path: string): string {
    if (!settings.artifactBucket) {
      throw new MlscaleError({
        code: 'InvalidSpec',
        provider: 'aws',
        message: `${what}: expected an s3:// URI, or set artifactBucket in sagemaker() settings for a default location.`,
        issues: [{ path: what, message: 'expected an s3:// URI' }],
      });
    }
    return `s3://${settings.artifactBucket}/${settings.artifactPrefix}/${path}`;
  }

  return {
    async doCreate(input, options: CallOptionsV1) {
      const spec = parseSpec(trainingJobSpecSchema, input, 'training job spec');
      const { signal } = options;
      const awsOptions = trainingAwsOptions(spec.providerOptions);
      const roleArn = requireExecutionRole(awsOptions.roleArn, settings.roleArn);
      if (spec.output && !isS3Uri(spec.output.uri)) {
        throw new MlscaleError({
          code: 'InvalidSpec',
          provider: 'aws',
          message: `output.uri "${spec.output.uri}": SageMaker writes training output to S3; expected an s3:// URI.`,
          issues: [{ path: 'output.uri', message: 'expected an s3:// URI' }],
        });
      }
      if (spec.spot?.checkpointPath && !isS3Uri(spec.spot.checkpointPath)) {
        throw new MlscaleError({
          code: 'InvalidSpec',
          provider: 'aws',
          message: `spot.checkpointPath "${spec.spot.checkpointPath}": SageMaker syncs checkpoints with S3; expected an s3:// URI.`,
          issues: [{ path: 'spot.checkpointPath', message: 'expected an s3:// URI' }],
        });
      }
      const outputPath = spec.output?.uri ?? s3Default('output.uri', 'training-output/');
      const checkpointUri = spec.spot
        ? (spec.spot.checkpointPath ?? s3Default('spot.checkpointPath', `checkpoints/${spec.name}/`))
        : undefined;
      const channelUris: Record<string, string> = {};
      for (const [channel, source] of Object.entries(spec.inputs)) {
        if (!isS3Uri(source.uri) && !isLocalPath(source.uri)) {
          throw new MlscaleError({
            code: 'InvalidSpec',
            provider: 'aws',
            message: `inputs.${channel}.uri "${source.uri}": SageMaker channels read from S3; expected an s3:// URI or a local path to upload.`,
            issues: [{ path: `inputs.${channel}.uri`, message: 'expected an s3:// URI or a local path' }],
          });
        }
        channelUris[channel] = await context.artifacts.inputPrefix(source.uri, signal);
      }
      const request = createTrainingJobRequest({
        spec,
        options: awsOptions,
        roleArn,
        channelUris,
        outputPath,
        ...(checkpointUri ? { checkpointUri } : {}),
        defaultInstanceType: settings.trainingInstanceType,
        tags: [
          { Key: tagKeys.trainingJob, Value: spec.name },
          ...specChunkTags(sealSecrets(spec, secretHashKey(spec.name)).sealed),
          ...userTags(spec.tags),
        ],
      });
      let created: { TrainingJobArn?: string | undefined };
      try {
        created = await aws.call(
          'sageMaker',
          'CreateTrainingJob',
          ({ module, client }, abortSignal) =>
            client.send(new module.CreateTrainingJobCommand(request), { abortSignal }),
          signal,
        );
      } catch (error) {
        if (MlscaleError.hasCode(error, 'Conflict') || MlscaleError.hasCode(error, 'AlreadyExists')) {
          throw new MlscaleError({
            code: 'AlreadyExists',
            provider: 'aws',
            message: `A SageMaker training job named '${spec.name}' already exists; job names are unique per account and region, so choose another.`,
            cause: error,
          });
        }
        throw error;
      }
      // The job exists now: a failed read must not make the client retry the create (it would find the
      // name taken). The job's own state comes with the next read.
      let status: TrainingJobStatus | undefined;
      try {
        status = await read(spec.name, signal);
      } catch (error) {
        if (MlscaleError.hasCode(error, 'Aborted')) throw error;
      }
      status ??= trainingStatus(
        {
          TrainingJobName: spec.name,
          TrainingJobArn: created.TrainingJobArn,
          TrainingJobStatus: 'InProgress',
          SecondaryStatus: 'Starting',
          CreationTime: new Date(),
        } as DescribeTrainingJobCommandOutput,
        sealSecrets(spec, secretHashKey(spec.name)).sealed,
      );
      return status;
    },

    async doGet(name, options) {
      parseSpec(resourceNameSchema, name, 'training job name');
      return read(name, options.signal);
    },

    async *doList(options) {
      const jobs = aws.items(
        'sageMaker',
        'ListTrainingJobs',
        ({ module, client }, abortSignal) =>
          module.paginateListTrainingJobs(
            { client, stopOnSameToken: true, pageSize: 100 },
            { SortBy: 'CreationTime', SortOrder: 'Descending' },
            { abortSignal },
          ),
        (page) => ({ items: page.TrainingJobSummaries, nextToken: page.NextToken }),
        options.signal,
      );
      for await (const summary of jobs) {
        if (!summary.TrainingJobName) continue;
        const status = await read(summary.TrainingJobName, options.signal);
        if (status) yield status;
      }
    },

    async doStop(name, options) {
      parseSpec(resourceNameSchema, name, 'training job name');
      const current = await read(name, options.signal);
      if (!current)
        throw new MlscaleError({
          code: 'NotFound',
          provider: 'aws',
          message: `No SageMaker training job named '${name}'.`,
        });
      if (
        current.state === 'Completed' ||
        current.state === 'Failed' ||
        current.state === 'Stopped' ||
        current.state === 'Stopping'
      ) {
        return current;
      }
      try {
        await aws.call(
          'sageMaker',
          'StopTrainingJob',
          ({ module, client }, abortSignal) =>
            client.send(new module.StopTrainingJobCommand({ TrainingJobName: name }), { abortSignal }),
          options.signal,
        );
      } catch (error) {
        // The job may have ended between the read and the stop: then its status is the answer.
        const after = await read(name, options.signal);
        if (!after || after.state === 'Running' || after.state === 'Pending') throw error;
        return after;
      }
      return (await read(name, options.signal)) ?? current;
    },
  };
}
