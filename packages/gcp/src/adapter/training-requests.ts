import type { protos } from '@google-cloud/aiplatform';
import type { TrainingJobSpec } from '@mlscale/core';
import { splitBucket } from './artifacts.js';
import { invalidSpec } from './errors.js';
import { labelKeys, tagLabels } from './names.js';
import { trainingOptions } from './provider-options.js';
import type { VertexSettings } from './settings.js';

type ICustomJob = protos.google.cloud.aiplatform.v1.ICustomJob;

/**
 * A CustomJob for a training spec. Pool 0 is the chief (one replica); with more than one node, pool 1
 * holds the other workers with the same machine and container. Hyperparameters become `--name=value`
 * arguments, inputs become `MLSCALE_INPUT_<NAME>` variables, and the base output directory makes Vertex
 * set AIP_MODEL_DIR / AIP_CHECKPOINT_DIR / AIP_TENSORBOARD_LOG_DIR.
 */
export function customJobFor(spec: TrainingJobSpec, settings: VertexSettings): ICustomJob {
  const options = trainingOptions(spec.providerOptions?.gcp);
  const imageUri = spec.image ?? settings.trainingImage;
  if (!imageUri)
    throw invalidSpec(
      'image',
      'expected a container image: Vertex AI runs training in containers (or set vertex({ trainingImage }))',
    );
  const nodes = Math.max(spec.distribution?.nodes ?? 1, spec.resources.instanceCount);
  const machineSpec: protos.google.cloud.aiplatform.v1.IMachineSpec = {
    machineType: spec.resources.instanceType ?? settings.defaultMachineType,
    ...(spec.resources.gpus > 0
      ? {
          acceleratorType: (options.acceleratorType ?? settings.defaultAcceleratorType) as never,
          acceleratorCount: spec.resources.gpus,
        }
      : {}),
  };
  const environment: Record<string, string> = { ...spec.environment };
  for (const [name, input] of Object.entries(spec.inputs))
    environment[`MLSCALE_INPUT_${name.toUpperCase()}`] = input.uri;
  if (spec.spot?.checkpointPath) environment.MLSCALE_CHECKPOINT_DIR = spec.spot.checkpointPath;
  if (spec.distribution) environment.MLSCALE_PROCESSES_PER_NODE = String(spec.distribution.processesPerNode);
  const containerSpec: protos.google.cloud.aiplatform.v1.IContainerSpec = {
    imageUri,
    ...(spec.command ? { command: spec.command } : {}),
    args: Object.entries(spec.hyperparameters)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, value]) => `--${name}=${String(value)}`),
    env: Object.entries(environment)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, value]) => ({ name, value })),
  };
  const pool = (replicaCount: number): protos.google.cloud.aiplatform.v1.IWorkerPoolSpec => ({
    machineSpec,
    replicaCount,
    containerSpec,
    ...(options.bootDiskSizeGb
      ? { diskSpec: { bootDiskType: 'pd-ssd', bootDiskSizeGb: options.bootDiskSizeGb } }
      : {}),
  });
  const output = outputDirectory(spec, settings);
  const scheduling: protos.google.cloud.aiplatform.v1.IScheduling = {
    ...(spec.maxRuntimeSeconds ? { timeout: { seconds: spec.maxRuntimeSeconds } } : {}),
    ...(spec.spot
      ? { strategy: 'SPOT' as never, maxWaitDuration: { seconds: spec.spot.maxWaitSeconds } }
      : {}),
    restartJobOnWorkerRestart: options.restartJobOnWorkerRestart ?? Boolean(spec.spot),
  };
  return {
    displayName: spec.name,
    labels: { ...tagLabels(spec.tags), [labelKeys.managed]: 'true', [labelKeys.job]: spec.name },
    jobSpec: {
      workerPoolSpecs: nodes > 1 ? [pool(1), pool(nodes - 1)] : [pool(1)],
      scheduling,
      ...(output ? { baseOutputDirectory: { outputUriPrefix: output } } : {}),
      ...(options.serviceAccount ? { serviceAccount: options.serviceAccount } : {}),
      ...(options.network ? { network: options.network } : {}),
    },
  };
}

/** Where the job writes: the spec's `output.uri` (gs://), else `gs://{bucket}/mlscale/jobs/{name}/`. */
function outputDirectory(spec: TrainingJobSpec, settings: VertexSettings): string | undefined {
  if (spec.output) {
    if (!spec.output.uri.startsWith('gs://'))
      throw invalidSpec('output.uri', 'expected a gs:// URI: Vertex AI jobs write to Cloud Storage');
    return spec.output.uri;
  }
  if (!settings.bucket) return undefined;
  const { bucketName, prefix } = splitBucket(settings.bucket);
  return `gs://${bucketName}/${prefix}mlscale/jobs/${spec.name}/`;
}
