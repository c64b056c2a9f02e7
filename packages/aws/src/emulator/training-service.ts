import { AwsServiceError, constraintViolation, invalidField } from './aws-service-error.js';
import {
  appendLog,
  type EmulatorContext,
  epochSeconds,
  type JsonObject,
  recordMetric,
  stringField,
  type TrainingJobRecord,
} from './emulator-context.js';
import { paginate } from './pagination.js';
import type { SageMakerHandler } from './sagemaker-service.js';

const trainingLogGroup = '/aws/sagemaker/TrainingJobs';
/** Simulated seconds per phase, so billable and training times look like a real job's. */
const simulatedSeconds = { downloading: 30, epoch: 60, uploading: 20, interrupted: 120 };
/** Spot capacity is billed at a fraction of on-demand in SageMaker's "savings"; billable seconds shrink the same way. */
const spotBillableShare = 0.3;

function requireJob(context: EmulatorContext, name: unknown): TrainingJobRecord {
  const job = typeof name === 'string' ? context.trainingJobs.get(name) : undefined;
  if (!job) throw new AwsServiceError('ValidationException', 'Requested resource not found.');
  return job;
}

function transition(
  job: TrainingJobRecord,
  status: string,
  message: string,
  time: number,
  secondary = true,
): void {
  const last = job.transitions.at(-1);
  if (last && last.EndTime === undefined) last.EndTime = time;
  if (secondary) {
    job.transitions.push({ Status: status, StartTime: time, StatusMessage: message });
    job.SecondaryStatus = status;
  }
  job.LastModifiedTime = time;
}

function hosts(job: TrainingJobRecord): string[] {
  const count = Number((job.input.ResourceConfig as JsonObject | undefined)?.InstanceCount ?? 1);
  return Array.from({ length: Math.max(1, count) }, (_, index) => `algo-${index + 1}`);
}

function log(
  context: EmulatorContext,
  job: TrainingJobRecord,
  host: string,
  message: string,
  time: number,
): void {
  appendLog(
    context,
    trainingLogGroup,
    `${job.TrainingJobName}/${host}-${Math.floor(job.CreationTime / 1000)}`,
    message,
    time,
  );
}

function finish(
  context: EmulatorContext,
  job: TrainingJobRecord,
  time: number,
  status: 'Completed' | 'Failed' | 'Stopped',
  secondary: string,
  message: string,
): void {
  transition(job, secondary, message, time);
  const last = job.transitions.at(-1);
  if (last) last.EndTime = time;
  job.TrainingJobStatus = status;
  job.TrainingEndTime = time;
  job.generation++;
  if (status === 'Failed') job.FailureReason = message;
  // FinalMetricDataList: the last value each metric definition's Regex found in the job's own log lines.
  const lines = jobLogLines(context, job).map((event) => event.message);
  const finalMetrics: { MetricName: string; Value: number; Timestamp: number }[] = [];
  for (const definition of metricDefinitions(job)) {
    const values = definition.values(lines);
    const value = values.at(-1);
    if (value !== undefined)
      finalMetrics.push({ MetricName: definition.name, Value: value, Timestamp: epochSeconds(time) });
  }
  job.finalMetrics = finalMetrics;
}

/** A metric definition of the job, compiled: its name and the numbers its Regex captures in lines. */
interface CompiledDefinition {
  name: string;
  values(lines: readonly string[]): number[];
}

/**
 * The job's MetricDefinitions. SageMaker reads each metric from the job's logs with the definition's
 * Regex (its first capture group is the value) and publishes it under the definition's Name only.
 */
function metricDefinitions(job: TrainingJobRecord): CompiledDefinition[] {
  const definitions = ((job.input.AlgorithmSpecification as JsonObject | undefined)?.MetricDefinitions ??
    []) as JsonObject[];
  return definitions.flatMap((definition) => {
    let pattern: RegExp;
    try {
      pattern = new RegExp(String(definition.Regex));
    } catch {
      // A pattern JavaScript cannot compile finds nothing (SageMaker's regex dialect is Java's).
      return [];
    }
    return [
      {
        name: String(definition.Name),
        values: (lines: readonly string[]) =>
          lines.flatMap((line) => {
            const match = pattern.exec(line);
            const parsed = match?.[1] === undefined ? Number.NaN : Number(match[1]);
            return Number.isFinite(parsed) ? [parsed] : [];
          }),
      },
    ];
  });
}

function jobLogLines(context: EmulatorContext, job: TrainingJobRecord) {
  const group = context.logGroups.get(trainingLogGroup);
  return (group?.events ?? []).filter((event) => event.logStreamName.startsWith(`${job.TrainingJobName}/`));
}

/**
 * CreateTrainingJob's AlgorithmSpecification.MetricDefinitions as the API reference bounds them: at
 * most 40 definitions; Name 1–255 characters; Regex 1–500 characters (AlgorithmSpecification,
 * MetricDefinition). Refusals use AWS's request-validation wording.
 */
function checkMetricDefinitions(algorithm: JsonObject): void {
  const definitions = algorithm.MetricDefinitions;
  if (definitions === undefined || definitions === null) return;
  const path = 'algorithmSpecification.metricDefinitions';
  if (!Array.isArray(definitions)) {
    throw new AwsServiceError('SerializationException', `Expected a list at '${path}'.`);
  }
  if (definitions.length > 40) {
    throw constraintViolation(
      path,
      `${definitions.length} definitions`,
      'Member must have length less than or equal to 40',
    );
  }
  definitions.forEach((definition, index) => {
    const member = (definition ?? {}) as JsonObject;
    for (const [field, maximum] of [
      ['Name', 255],
      ['Regex', 500],
    ] as const) {
      const value = member[field];
      const memberPath = `${path}.${index + 1}.member.${field.toLowerCase()}`;
      if (typeof value !== 'string') throw constraintViolation(memberPath, value, 'Member must not be null');
      if (value.length < 1)
        throw constraintViolation(memberPath, value, 'Member must have length greater than or equal to 1');
      if (value.length > maximum)
        throw constraintViolation(
          memberPath,
          value,
          `Member must have length less than or equal to ${maximum}`,
        );
    }
  });
}

/** Runs one epoch on every host: the loss falls with the learning rate; metrics go to logs and CloudWatch. */
function runEpoch(context: EmulatorContext, job: TrainingJobRecord, epoch: number, time: number): void {
  const hyperparameters = (job.input.HyperParameters ?? {}) as Record<string, string>;
  const learningRate = Number(hyperparameters.learning_rate ?? hyperparameters.lr ?? 0.1);
  const rate = Number.isFinite(learningRate) && learningRate > 0 ? learningRate : 0.1;
  const loss = Number((2.3 * Math.exp(-rate * epoch * 3)).toFixed(4));
  const accuracy = Number((1 - loss / 2.3 / 1.1).toFixed(4));
  const all = hosts(job);
  const processesPerHost = Number(
    (job.input.Environment as Record<string, string> | undefined)?.MLSCALE_NPROC_PER_NODE ?? 1,
  );
  const firstSequence = context.logSequence;
  for (const [index, host] of all.entries()) {
    if (epoch === 1 && (all.length > 1 || processesPerHost > 1)) {
      log(
        context,
        job,
        host,
        `torchrun: node_rank=${index} nnodes=${all.length} nproc_per_node=${processesPerHost} master_addr=${all[0]} world_size=${all.length * processesPerHost}`,
        time,
      );
    }
    log(context, job, host, `epoch=${epoch} train_loss=${loss} accuracy=${accuracy}`, time);
  }
  // Algorithm metrics exist only as the job's MetricDefinitions parse them out of this epoch's lines.
  const epochLines = jobLogLines(context, job)
    .filter((event) => event.sequence >= firstSequence)
    .map((event) => event.message);
  for (const definition of metricDefinitions(job)) {
    for (const value of definition.values(epochLines)) {
      recordMetric(
        context,
        '/aws/sagemaker/TrainingJobs',
        definition.name,
        { TrainingJobName: job.TrainingJobName },
        value,
        'None',
        time,
      );
    }
  }
  // Instance metrics (not algorithm metrics) SageMaker publishes for every training host.
  for (const host of all) {
    recordMetric(
      context,
      '/aws/sagemaker/TrainingJobs',
      'CPUUtilization',
      { Host: `${job.TrainingJobName}/${host}` },
      55 + (epoch % 7) * 5,
      'Percent',
      time,
    );
  }
}

function step(
  context: EmulatorContext,
  job: TrainingJobRecord,
  generation: number,
  run: (time: number) => void,
): void {
  context.scheduler.after(context.delays.trainingStepMs, (time) => {
    if (job.generation !== generation || context.trainingJobs.get(job.TrainingJobName) !== job) return;
    run(time);
  });
}

function schedule(context: EmulatorContext, job: TrainingJobRecord): void {
  const generation = job.generation;
  const spot = job.input.EnableManagedSpotTraining === true;
  const stopping = (job.input.StoppingCondition ?? {}) as JsonObject;
  const maxRuntime = Number(stopping.MaxRuntimeInSeconds ?? 86_400);
  const image = stringField((job.input.AlgorithmSpecification ?? {}) as JsonObject, 'TrainingImage');
  const epochs = Math.max(
    1,
    Math.min(50, Number((job.input.HyperParameters as JsonObject | undefined)?.epochs ?? 3) || 3),
  );
  const bill = (seconds: number) => {
    job.trainingSeconds += seconds;
    job.billableSeconds += spot ? seconds * spotBillableShare : seconds;
  };

  step(context, job, generation, (time) => {
    transition(job, 'Downloading', 'Downloading input data', time);
    job.TrainingStartTime = time;
    for (const host of hosts(job))
      log(context, job, host, 'Downloading input data from the input channels', time);
    if (image && context.badImages.has(image)) {
      finish(
        context,
        job,
        time,
        'Failed',
        'Failed',
        `ClientError: Failed to pull the training image "${image}". Check that it exists and that the role can read it.`,
      );
      return;
    }
    bill(simulatedSeconds.downloading);
    step(context, job, generation, (started) => {
      transition(job, 'Training', 'Training image download completed. Training in progress.', started);
      const runFrom = (epoch: number, time: number) => {
        if (job.trainingSeconds + simulatedSeconds.epoch > maxRuntime) {
          finish(
            context,
            job,
            time,
            'Stopped',
            'MaxRuntimeExceeded',
            `Training job runtime exceeded MaxRuntimeInSeconds (${maxRuntime} s).`,
          );
          return;
        }
        if (spot && job.interruptionsLeft > 0 && epoch > 1) {
          job.interruptionsLeft--;
          transition(
            job,
            'Interrupted',
            'The job was interrupted: spot capacity was reclaimed. It resumes from its last checkpoint.',
            time,
          );
          for (const host of hosts(job))
            log(context, job, host, 'Spot interruption: saving checkpoint to /opt/ml/checkpoints', time);
          step(context, job, job.generation, (resumed) => {
            transition(job, 'Training', `Training resumed from checkpoint at epoch ${epoch}.`, resumed);
            runFrom(epoch, resumed);
          });
          return;
        }
        runEpoch(context, job, epoch, time);
        bill(simulatedSeconds.epoch);
        step(context, job, job.generation, (next) => {
          if (epoch < epochs) {
            runFrom(epoch + 1, next);
            return;
          }
          transition(job, 'Uploading', 'Uploading generated training model', next);
          bill(simulatedSeconds.uploading);
          step(context, job, job.generation, (done) => {
            const output =
              stringField((job.input.OutputDataConfig ?? {}) as JsonObject, 'S3OutputPath') ?? '';
            job.modelArtifacts = `${output.replace(/\/+$/, '')}/${job.TrainingJobName}/output/model.tar.gz`;
            for (const host of hosts(job)) log(context, job, host, 'Reporting training SUCCESS', done);
            finish(context, job, done, 'Completed', 'Completed', 'Training job completed');
          });
        });
      };
      runFrom(1, started);
    });
  });
}

function describe(job: TrainingJobRecord): JsonObject {
  const { input } = job;
  return {
    TrainingJobName: job.TrainingJobName,
    TrainingJobArn: job.TrainingJobArn,
    ...(job.modelArtifacts ? { ModelArtifacts: { S3ModelArtifacts: job.modelArtifacts } } : {}),
    TrainingJobStatus: job.TrainingJobStatus,
    SecondaryStatus: job.SecondaryStatus,
    ...(job.FailureReason ? { FailureReason: job.FailureReason } : {}),
    HyperParameters: input.HyperParameters ?? {},
    AlgorithmSpecification: input.AlgorithmSpecification,
    RoleArn: input.RoleArn,
    InputDataConfig: input.InputDataConfig ?? [],
    OutputDataConfig: input.OutputDataConfig,
    ResourceConfig: input.ResourceConfig,
    ...(input.VpcConfig ? { VpcConfig: input.VpcConfig } : {}),
    StoppingCondition: input.StoppingCondition,
    CreationTime: epochSeconds(job.CreationTime),
    ...(job.TrainingStartTime ? { TrainingStartTime: epochSeconds(job.TrainingStartTime) } : {}),
    ...(job.TrainingEndTime ? { TrainingEndTime: epochSeconds(job.TrainingEndTime) } : {}),
    LastModifiedTime: epochSeconds(job.LastModifiedTime),
    SecondaryStatusTransitions: job.transitions.map((entry) => ({
      Status: entry.Status,
      StartTime: epochSeconds(entry.StartTime),
      ...(entry.EndTime !== undefined ? { EndTime: epochSeconds(entry.EndTime) } : {}),
      StatusMessage: entry.StatusMessage,
    })),
    ...(job.finalMetrics ? { FinalMetricDataList: job.finalMetrics } : {}),
    EnableNetworkIsolation: input.EnableNetworkIsolation ?? false,
    EnableManagedSpotTraining: input.EnableManagedSpotTraining ?? false,
    ...(input.CheckpointConfig ? { CheckpointConfig: input.CheckpointConfig } : {}),
    ...(job.trainingSeconds > 0 ? { TrainingTimeInSeconds: Math.round(job.trainingSeconds) } : {}),
    ...(job.billableSeconds > 0 ? { BillableTimeInSeconds: Math.round(job.billableSeconds) } : {}),
    ...(input.Environment ? { Environment: input.Environment } : {}),
    ...(input.RetryStrategy ? { RetryStrategy: input.RetryStrategy } : {}),
  };
}

export const trainingHandlers: Readonly<Record<string, SageMakerHandler>> = {
  CreateTrainingJob(context, input) {
    const name = stringField(input, 'TrainingJobName');
    if (!name || !/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(name))
      throw invalidField('TrainingJobName', 'Member must satisfy regular expression pattern');
    const algorithm = input.AlgorithmSpecification as JsonObject | undefined;
    if (!algorithm || (!algorithm.TrainingImage && !algorithm.AlgorithmName)) {
      throw new AwsServiceError(
        'ValidationException',
        'Either TrainingImage or AlgorithmName must be specified in AlgorithmSpecification.',
      );
    }
    checkMetricDefinitions(algorithm);
    if (!stringField(input, 'RoleArn')) throw invalidField('RoleArn', 'Member must not be null');
    const output = input.OutputDataConfig as JsonObject | undefined;
    if (!output || !String(output.S3OutputPath ?? '').startsWith('s3://')) {
      throw invalidField(
        'OutputDataConfig.S3OutputPath',
        'Member must satisfy regular expression pattern: ^(https|s3)://([^/]+)/?(.*)$',
      );
    }
    const resources = input.ResourceConfig as JsonObject | undefined;
    if (!resources?.InstanceType || !resources.InstanceCount) {
      throw invalidField('ResourceConfig', 'InstanceType and InstanceCount must be specified');
    }
    const stopping = input.StoppingCondition as JsonObject | undefined;
    if (!stopping) throw invalidField('StoppingCondition', 'Member must not be null');
    if (input.EnableManagedSpotTraining === true) {
      const maxWait = Number(stopping.MaxWaitTimeInSeconds);
      if (!Number.isFinite(maxWait)) {
        throw new AwsServiceError(
          'ValidationException',
          'MaxWaitTimeInSeconds must be specified for managed spot training.',
        );
      }
      if (maxWait < Number(stopping.MaxRuntimeInSeconds ?? 86_400)) {
        throw new AwsServiceError(
          'ValidationException',
          'MaxWaitTimeInSeconds must be greater than or equal to MaxRuntimeInSeconds.',
        );
      }
    } else if (stopping.MaxWaitTimeInSeconds !== undefined) {
      throw new AwsServiceError(
        'ValidationException',
        'MaxWaitTimeInSeconds is only valid with managed spot training.',
      );
    }
    const existing = context.trainingJobs.get(name);
    if (existing) {
      throw new AwsServiceError(
        'ResourceInUse',
        `Training job names must be unique within an AWS account and region, and a training job with this name already exists (${existing.TrainingJobArn})`,
      );
    }
    const now = context.now();
    const interruptFault = context.faults.findIndex(
      (fault) => fault.kind === 'interruptSpot' && fault.jobName === name,
    );
    let interruptions = 0;
    if (interruptFault >= 0) {
      const [fault] = context.faults.splice(interruptFault, 1);
      interruptions = fault?.kind === 'interruptSpot' ? (fault.count ?? 1) : 0;
    }
    const job: TrainingJobRecord = {
      input,
      TrainingJobName: name,
      TrainingJobArn: context.arn('sagemaker', `training-job/${name.toLowerCase()}`),
      TrainingJobStatus: 'InProgress',
      SecondaryStatus: 'Starting',
      CreationTime: now,
      LastModifiedTime: now,
      transitions: [
        { Status: 'Starting', StartTime: now, StatusMessage: 'Preparing the instances for training' },
      ],
      trainingSeconds: 0,
      billableSeconds: 0,
      interruptionsLeft: interruptions,
      generation: 0,
    };
    context.trainingJobs.set(name, job);
    const tags = input.Tags;
    if (Array.isArray(tags)) {
      context.tags.set(
        job.TrainingJobArn,
        new Map((tags as JsonObject[]).map((tag) => [String(tag.Key), String(tag.Value ?? '')])),
      );
    }
    schedule(context, job);
    return { TrainingJobArn: job.TrainingJobArn };
  },

  DescribeTrainingJob(context, input) {
    return describe(requireJob(context, input.TrainingJobName));
  },

  StopTrainingJob(context, input) {
    const job = requireJob(context, input.TrainingJobName);
    if (job.TrainingJobStatus !== 'InProgress') {
      throw new AwsServiceError(
        'ValidationException',
        `The request was rejected because the training job is in status ${job.TrainingJobStatus}.`,
      );
    }
    job.generation++;
    job.TrainingJobStatus = 'Stopping';
    transition(job, 'Stopping', 'Stopping the training job', context.now());
    const generation = job.generation;
    context.scheduler.after(context.delays.trainingStepMs, (time) => {
      if (job.generation !== generation) return;
      for (const host of hosts(job)) log(context, job, host, 'Received SIGTERM: stopping training', time);
      finish(context, job, time, 'Stopped', 'Stopped', 'The training job was stopped.');
    });
    return {};
  },

  ListTrainingJobs(context, input) {
    const direction = input.SortOrder === 'Ascending' ? 1 : -1;
    const items = [...context.trainingJobs.values()]
      .filter(
        (job) => typeof input.NameContains !== 'string' || job.TrainingJobName.includes(input.NameContains),
      )
      .filter((job) => !input.StatusEquals || job.TrainingJobStatus === input.StatusEquals)
      .sort((left, right) => direction * (left.CreationTime - right.CreationTime))
      .map((job) => ({
        TrainingJobName: job.TrainingJobName,
        TrainingJobArn: job.TrainingJobArn,
        CreationTime: epochSeconds(job.CreationTime),
        ...(job.TrainingEndTime ? { TrainingEndTime: epochSeconds(job.TrainingEndTime) } : {}),
        LastModifiedTime: epochSeconds(job.LastModifiedTime),
        TrainingJobStatus: job.TrainingJobStatus,
        SecondaryStatus: job.SecondaryStatus,
      }));
    const { page, nextToken } = paginate(items, input.NextToken, input.MaxResults, 10);
    return { TrainingJobSummaries: page, ...(nextToken ? { NextToken: nextToken } : {}) };
  },
};
