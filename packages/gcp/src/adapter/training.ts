import {
  MlscaleError,
  type TrainingJobSpec,
  type TrainingJobState,
  type TrainingJobStatus,
  type TrainingOperationsV1,
  trainingJobSpecSchema,
} from '@mlscale/core';
import { callVertex, singleAttempt } from './calls.js';
import { type AdapterContext, clientsOf, toDate } from './context.js';
import { provider } from './errors.js';
import { findCustomJob, type ICustomJob, listCustomJobs } from './job-calls.js';
import { labelKeys, locationName } from './names.js';
import { customJobFor } from './training-requests.js';

/** Vertex JobState → core's training states. */
const states: Record<string, TrainingJobState> = {
  JOB_STATE_QUEUED: 'Pending',
  JOB_STATE_PENDING: 'Pending',
  JOB_STATE_RUNNING: 'Running',
  JOB_STATE_UPDATING: 'Running',
  JOB_STATE_PAUSED: 'Pending',
  JOB_STATE_CANCELLING: 'Stopping',
  JOB_STATE_SUCCEEDED: 'Completed',
  JOB_STATE_PARTIALLY_SUCCEEDED: 'Completed',
  JOB_STATE_FAILED: 'Failed',
  JOB_STATE_EXPIRED: 'Failed',
  JOB_STATE_CANCELLED: 'Stopped',
};

export function createTrainingOperations(context: AdapterContext): TrainingOperationsV1 {
  const { settings } = context;
  /** Specs of jobs this process started, exact; others are read back from the CustomJob. */
  const specs = new Map<string, TrainingJobSpec>();

  const find = (name: string, signal?: AbortSignal) => findCustomJob(context, name, signal);

  function statusOf(job: ICustomJob): TrainingJobStatus {
    const name = job.labels?.[labelKeys.job] ?? job.displayName ?? '';
    const vertexState = String(job.state ?? 'JOB_STATE_UNSPECIFIED');
    const state = states[vertexState] ?? 'Pending';
    const started = toDate(job.startTime);
    const ended = toDate(job.endTime);
    const seconds =
      started && ended ? Math.max(0, Math.round((ended.getTime() - started.getTime()) / 1000)) : undefined;
    const output = job.jobSpec?.baseOutputDirectory?.outputUriPrefix;
    return {
      name,
      provider,
      state,
      secondaryStatus: vertexState,
      ...(job.error?.message && state !== 'Completed' ? { failureReason: job.error.message } : {}),
      spec: specs.get(name) ?? specFromJob(name, job),
      createdAt: toDate(job.createTime) ?? new Date(0),
      ...(started ? { startedAt: started } : {}),
      ...(ended ? { endedAt: ended } : {}),
      ...(seconds !== undefined ? { trainingSeconds: seconds, billableSeconds: seconds } : {}),
      ...(output && state === 'Completed' ? { modelUri: `${output.replace(/\/?$/, '/')}model/` } : {}),
      details: { customJob: job.name, webAccessUris: job.webAccessUris ?? {} },
    };
  }

  return {
    async doCreate(spec, options) {
      const customJob = customJobFor(spec, settings);
      if (await find(spec.name, options.signal)) {
        throw new MlscaleError({
          code: 'AlreadyExists',
          provider,
          message: `A training job named '${spec.name}' exists on Vertex AI; choose another name.`,
        });
      }
      const clients = await clientsOf(context);
      const [created] = await callVertex('CreateCustomJob', options.signal, () =>
        clients.jobs.createCustomJob({ parent: locationName(settings), customJob }, singleAttempt),
      );
      specs.set(spec.name, spec);
      return statusOf(created);
    },
    async doGet(name, options) {
      const job = await find(name, options.signal);
      return job ? statusOf(job) : undefined;
    },
    async *doList(options) {
      const jobs = await listCustomJobs(context, labelKeys.managed, 'true', options.signal);
      for (const job of jobs) yield statusOf(job);
    },
    async doStop(name, options) {
      const job = await find(name, options.signal);
      if (!job?.name)
        throw new MlscaleError({
          code: 'NotFound',
          provider,
          message: `No training job named '${name}' on Vertex AI.`,
        });
      const status = statusOf(job);
      if (status.state === 'Completed' || status.state === 'Failed' || status.state === 'Stopped')
        return status;
      const clients = await clientsOf(context);
      await callVertex('CancelCustomJob', options.signal, () =>
        clients.jobs.cancelCustomJob({ name: job.name! }, singleAttempt),
      );
      const [after] = await callVertex('GetCustomJob', options.signal, () =>
        clients.jobs.getCustomJob({ name: job.name! }, singleAttempt),
      );
      return statusOf(after);
    },
  };
}

/** A job started elsewhere: its spec, read back from the CustomJob as far as Vertex keeps it. */
function specFromJob(name: string, job: ICustomJob): TrainingJobSpec {
  const pools = job.jobSpec?.workerPoolSpecs ?? [];
  const primary = pools[0];
  const container = primary?.containerSpec;
  const hyperparameters: Record<string, string> = {};
  for (const argument of container?.args ?? []) {
    const match = /^--([^=]+)=(.*)$/.exec(argument);
    if (match) hyperparameters[match[1]!] = match[2]!;
  }
  const environment: Record<string, string> = {};
  for (const variable of container?.env ?? [])
    if (variable.name && !variable.name.startsWith('MLSCALE_'))
      environment[variable.name] = variable.value ?? '';
  const nodes = pools.reduce((sum, pool) => sum + Number(pool.replicaCount ?? 0), 0) || 1;
  const timeout = Number(job.jobSpec?.scheduling?.timeout?.seconds ?? 0);
  const spot = String(job.jobSpec?.scheduling?.strategy ?? '') === 'SPOT';
  return trainingJobSpecSchema.parse({
    name,
    ...(container?.imageUri ? { image: container.imageUri } : {}),
    ...(container?.command?.length ? { command: container.command } : {}),
    hyperparameters,
    environment,
    resources: {
      ...(primary?.machineSpec?.machineType ? { instanceType: primary.machineSpec.machineType } : {}),
      instanceCount: nodes,
      gpus: Number(primary?.machineSpec?.acceleratorCount ?? 0),
    },
    ...(timeout > 0 ? { maxRuntimeSeconds: timeout } : {}),
    ...(spot
      ? {
          spot: {
            maxWaitSeconds:
              Number(job.jobSpec?.scheduling?.maxWaitDuration?.seconds ?? 0) || Math.max(timeout, 86_400),
          },
        }
      : {}),
    ...(job.jobSpec?.baseOutputDirectory?.outputUriPrefix
      ? { output: { uri: job.jobSpec.baseOutputDirectory.outputUriPrefix } }
      : {}),
  });
}
