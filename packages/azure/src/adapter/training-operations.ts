import { createHash } from 'node:crypto';
import type { CommandJob, JobBase } from '@azure/arm-machinelearning';
import {
  type CallOptionsV1,
  MlscaleError,
  parseSpec,
  sealSecrets,
  secretHashKey,
  specHash,
  type TrainingJobSpec,
  type TrainingJobState,
  type TrainingJobStatus,
  type TrainingOperationsV1,
  trainingJobSpecSchema,
} from '@mlscale/core';
import { z } from 'zod';
import type { AdapterContext } from './adapter-context.js';
import { assertAzureReadable, hashArtifact, localPathOf, uploadArtifact } from './model-artifacts.js';
import { rawArmRequest } from './raw-arm-request.js';
import { managedByValue, propertyNames, tagNames } from './resource-names.js';
import { machineLearningItems } from './sdk-pages.js';
import { provider } from './to-mlscale-error.js';

/** `providerOptions.azure` of a training job spec. */
export const azureTrainingOptionsSchema = z
  .object({
    /** The compute cluster (name or ARM id); default the `compute` setting. */
    compute: z.string().min(1).optional(),
    /** A low-priority cluster for `spot` jobs; default the `spotCompute` setting. */
    spotCompute: z.string().min(1).optional(),
    /** An existing environment (ARM id) instead of one made from `image`. */
    environmentId: z.string().min(1).optional(),
    /** The experiment the job is filed under. Default `mlscale`. */
    experimentName: z.string().min(1).optional(),
  })
  .strict();

/** Azure job statuses → core's states. */
const stateOf: Record<string, TrainingJobState> = {
  NotStarted: 'Pending',
  Starting: 'Pending',
  Provisioning: 'Pending',
  Preparing: 'Pending',
  Queued: 'Pending',
  Paused: 'Pending',
  Running: 'Running',
  Finalizing: 'Running',
  NotResponding: 'Running',
  CancelRequested: 'Stopping',
  Completed: 'Completed',
  Failed: 'Failed',
  Canceled: 'Stopped',
};

/** Input delivery: core's modes → Azure's. */
const inputModes = { copy: 'Download', link: 'ReadOnlyMount', stream: 'Direct' } as const;

/** Quotes one argv item for the job's shell command. */
function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'"'"'`)}'`;
}

function computeId(context: AdapterContext, compute: string): string {
  return compute.startsWith('/') ? compute : `${context.workspaceId}/computes/${compute}`;
}

function invalid(path: string, message: string): MlscaleError {
  return new MlscaleError({
    code: 'InvalidSpec',
    provider,
    message: `Invalid training job spec:\n  - ${path}: ${message}`,
    issues: [{ path, message }],
  });
}

/** The training group: Azure ML command jobs. */
export function createTrainingOperations(context: AdapterContext): TrainingOperationsV1 {
  const { settings } = context;

  const environmentFor = async (
    spec: TrainingJobSpec,
    environmentId: string | undefined,
    signal?: AbortSignal,
  ) => {
    if (environmentId) return environmentId;
    if (!spec.image)
      throw invalid('image', 'expected a container image (or providerOptions.azure.environmentId) on Azure');
    const version = createHash('sha256').update(spec.image).digest('hex').slice(0, 16);
    await context.call(`Writing environment mlscale-training:${version}`, (clients) =>
      clients.machineLearning.environmentVersions.createOrUpdate(
        settings.resourceGroup,
        settings.workspace,
        'mlscale-training',
        version,
        {
          properties: { image: spec.image, osType: 'Linux', tags: { [tagNames.managedBy]: managedByValue } },
        },
        { abortSignal: signal },
      ),
    );
    return `${context.workspaceId}/environments/mlscale-training/versions/${version}`;
  };

  const toStatus = (job: JobBase): TrainingJobStatus => {
    const properties = job.properties as CommandJob;
    const azureStatus = properties.status ?? 'NotStarted';
    const state = stateOf[azureStatus] ?? 'Pending';
    const spec = readSpec(job);
    const created = job.systemData?.createdAt ? new Date(job.systemData.createdAt) : new Date(0);
    return {
      name: job.name ?? spec.name,
      provider,
      state,
      secondaryStatus: azureStatus,
      ...(state === 'Failed'
        ? {
            failureReason: `Azure ML reported the job as Failed; read its logs in the studio (${studioUrl(job) ?? 'Azure ML studio'}).`,
          }
        : {}),
      spec,
      createdAt: created,
      ...(spec.output ? { modelUri: spec.output.uri } : {}),
      details: {
        jobId: job.id,
        experimentName: properties.experimentName,
        computeId: properties.computeId,
        ...(studioUrl(job) ? { studioUrl: studioUrl(job) } : {}),
      },
    };
  };

  const getJob = (name: string, signal: AbortSignal | undefined) =>
    context.find(`Reading job '${name}'`, (clients) =>
      clients.machineLearning.jobs.get(settings.resourceGroup, settings.workspace, name, {
        abortSignal: signal,
      }),
    );

  return {
    async doCreate(spec, options: CallOptionsV1) {
      const { signal } = options;
      const azure = parseSpec(
        z.object({ azure: azureTrainingOptionsSchema.default({}) }),
        { azure: spec.providerOptions?.azure },
        'training job spec providerOptions',
      ).azure;
      if (await getJob(spec.name, signal)) {
        throw new MlscaleError({
          code: 'AlreadyExists',
          provider,
          message: `A job named '${spec.name}' already exists; job names are unique in a workspace.`,
        });
      }
      const compute = spec.spot
        ? (azure.spotCompute ?? settings.spotCompute)
        : (azure.compute ?? settings.compute);
      if (!compute) {
        throw spec.spot
          ? invalid(
              'providerOptions.azure.spotCompute',
              'expected a low-priority compute cluster: Azure ML 2022-10-01 runs spot jobs on one (or set the spotCompute setting)',
            )
          : invalid(
              'providerOptions.azure.compute',
              'expected a compute cluster name (or set the compute setting / AZUREML_COMPUTE)',
            );
      }
      if (!spec.command) throw invalid('command', 'expected a command: Azure ML command jobs run one');
      const inputs: NonNullable<CommandJob['inputs']> = {};
      for (const [name, input] of Object.entries(spec.inputs)) {
        assertAzureReadable(input.uri, `inputs.${name}.uri`);
        const localPath = localPathOf(input.uri);
        const uri =
          localPath === undefined
            ? input.uri
            : (
                await uploadArtifact(
                  context,
                  await hashArtifact(localPath, `inputs.${name}.uri`),
                  'inputs',
                  spec.name,
                  signal,
                )
              ).uri;
        inputs[name] = { jobInputType: 'uri_folder', uri, mode: inputModes[input.mode] } as NonNullable<
          CommandJob['inputs']
        >[string];
      }
      const outputs: NonNullable<CommandJob['outputs']> = {};
      if (spec.output) {
        if (localPathOf(spec.output.uri) !== undefined) {
          throw invalid(
            'output.uri',
            'expected an azureml:// or https:// URI: an Azure job cannot write to this machine',
          );
        }
        outputs.model = {
          jobOutputType: 'uri_folder',
          uri: spec.output.uri,
          mode: 'ReadWriteMount',
        } as NonNullable<CommandJob['outputs']>[string];
      }
      const argv = [...spec.command];
      for (const [name, value] of Object.entries(spec.hyperparameters)) argv.push(`--${name}`, String(value));
      const inputReferences = Object.keys(inputs).map(
        (name) => `MLSCALE_INPUT_${name.toUpperCase()}=\${{inputs.${name}}}`,
      );
      const processes = spec.distribution?.processesPerNode ?? 1;
      const nodes = Math.max(spec.resources.instanceCount, spec.distribution?.nodes ?? 1);
      const recorded = sealSecrets(spec, secretHashKey(spec.name)).sealed;
      const properties: CommandJob = {
        jobType: 'Command',
        command: [...inputReferences, ...argv.map(shellQuote)].join(' '),
        environmentId: await environmentFor(spec, azure.environmentId, signal),
        computeId: computeId(context, compute),
        experimentName: azure.experimentName ?? 'mlscale',
        displayName: spec.name,
        environmentVariables: { ...spec.environment },
        inputs,
        outputs,
        resources: {
          instanceCount: nodes,
          ...(spec.resources.instanceType ? { instanceType: spec.resources.instanceType } : {}),
        },
        ...(processes > 1 || nodes > 1
          ? { distribution: { distributionType: 'PyTorch', processCountPerInstance: processes } }
          : {}),
        ...(spec.maxRuntimeSeconds
          ? { limits: { jobLimitsType: 'Command', timeout: `PT${spec.maxRuntimeSeconds}S` } }
          : {}),
        // The job's environment holds the values; what is recorded about the spec holds them sealed.
        tags: {
          ...recorded.tags,
          [tagNames.managedBy]: managedByValue,
          [tagNames.specHash]: specHash(recorded),
        },
        properties: { [propertyNames.spec]: JSON.stringify(recorded) },
      };
      // Not jobs.createOrUpdate: its serializer drops uri_folder inputs' uri and mode (see raw-arm-request.ts).
      const created = await context.call(`Creating job '${spec.name}'`, (clients) =>
        rawArmRequest<JobBase>(
          clients,
          {
            method: 'PUT',
            path: `${context.workspaceId}/jobs/${spec.name}`,
            apiVersion: '2022-10-01',
            body: { properties },
            signal,
          },
          settings.endpoint,
        ),
      );
      return toStatus(created);
    },

    async doGet(name, options) {
      const job = await getJob(name, options.signal);
      return job ? toStatus(job) : undefined;
    },

    async *doList(options) {
      const jobs = await context.call(
        'Listing jobs',
        async (clients) => {
          const found: JobBase[] = [];
          for await (const job of machineLearningItems(
            clients,
            clients.machineLearning.jobs.list(settings.resourceGroup, settings.workspace, {
              abortSignal: options.signal,
            }),
          )) {
            if (job.properties.tags?.[tagNames.managedBy] === managedByValue) found.push(job);
          }
          return found;
        },
        options.signal,
      );
      yield* jobs.map(toStatus);
    },

    async doStop(name, options) {
      const job = await getJob(name, options.signal);
      if (!job)
        throw new MlscaleError({
          code: 'NotFound',
          provider,
          message: `No training job named '${name}' on the azure backend.`,
        });
      const current = toStatus(job);
      if (current.state === 'Completed' || current.state === 'Failed' || current.state === 'Stopped')
        return current;
      const poller = await context.call(`Canceling job '${name}'`, (clients) =>
        clients.machineLearning.jobs.beginCancel(settings.resourceGroup, settings.workspace, name, {
          abortSignal: options.signal,
          updateIntervalInMs: settings.pollIntervalMs,
        }),
      );
      poller.stopPolling();
      const after = await getJob(name, options.signal);
      return after ? toStatus(after) : { ...current, state: 'Stopping' };
    },
  };
}

function studioUrl(job: JobBase): string | undefined {
  const services = (job.properties as { services?: Record<string, { endpoint?: string } | null> }).services;
  return services?.Studio?.endpoint ?? undefined;
}

/** The spec stored on the job, or one rebuilt from the command. */
function readSpec(job: JobBase): TrainingJobSpec {
  const text = job.properties.properties?.[propertyNames.spec];
  if (text) {
    try {
      const parsed = trainingJobSpecSchema.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
    } catch {
      // Rebuilt below.
    }
  }
  const command = (job.properties as CommandJob).command ?? 'unknown';
  const rebuilt = { name: job.name ?? 'unknown-job', command: ['sh', '-c', command] };
  const parsed = trainingJobSpecSchema.safeParse(rebuilt);
  // Jobs made outside mlscale may have names its rules refuse; report them as they are rather than fail.
  return parsed.success
    ? parsed.data
    : {
        ...rebuilt,
        inputs: {},
        hyperparameters: {},
        resources: { instanceCount: 1, gpus: 0 },
        environment: {},
        metricDefinitions: [],
      };
}
