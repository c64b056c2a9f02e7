import { z } from 'zod';
import {
  environmentSchema,
  providerOptionsSchema,
  resourceNameSchema,
  secondsSchema,
  type TrainingProviderOptions,
  type TypedProviderOptions,
  tagsSchema,
} from './common.js';

/** A channel name, usable as `SM_CHANNEL_<NAME>`. */
export const channelNameSchema = z
  .string()
  .regex(
    /^[A-Za-z][A-Za-z0-9_]{0,63}$/,
    'expected a channel name of letters, digits and "_", starting with a letter',
  );

/** One input channel: data the job reads. */
export const trainingInputSchema = z
  .object({
    /** A local path, or `s3://` / `gs://` / `azureml://` / `https://` URI. */
    uri: z.string().min(1, 'expected a path or URI'),
    /** How the data reaches the job: copied in, linked, or streamed where the backend can. */
    mode: z.enum(['copy', 'link', 'stream']).default('copy'),
    contentType: z.string().optional(),
  })
  .strict();

/** A metric read from the job's log lines (SageMaker's MetricDefinitions). */
export const metricDefinitionSchema = z
  .object({
    name: z
      .string()
      .regex(
        /^[A-Za-z][A-Za-z0-9_.:-]{0,254}$/,
        'expected a metric name of letters, digits, "_", ".", ":" or "-"',
      ),
    /** A regular expression whose first capture group is the value. */
    regex: z.string().refine((source) => {
      try {
        return new RegExp(source).source.length > 0;
      } catch {
        return false;
      }
    }, 'expected a valid regular expression'),
  })
  .strict();
export type MetricDefinition = z.infer<typeof metricDefinitionSchema>;

export const hyperparameterValueSchema = z.union([z.string(), z.number(), z.boolean()]);

/** A training job. */
export const trainingJobSpecSchema = z
  .object({
    name: resourceNameSchema,
    /** The container image that runs it (cloud backends). */
    image: z.string().min(1).optional(),
    /** The command and its arguments (argv; no shell). */
    command: z.array(z.string()).min(1, 'expected at least the program to run').optional(),
    /** Input channels, name → source. */
    inputs: z.record(channelNameSchema, trainingInputSchema).default({}),
    /** Where the model and output land (a local folder or a cloud URI). */
    output: z
      .object({ uri: z.string().min(1) })
      .strict()
      .optional(),
    /** Passed to the job as strings, like every cloud does. */
    hyperparameters: z.record(z.string().min(1), hyperparameterValueSchema).default({}),
    resources: z
      .object({
        instanceType: z.string().min(1).optional(),
        /** Machines (nodes). */
        instanceCount: z.number().int().min(1).max(100).default(1),
        /** GPUs per machine. */
        gpus: z.number().int().min(0).max(16).default(0),
      })
      .strict()
      .default({ instanceCount: 1, gpus: 0 }),
    /** Processes per node × nodes, with torchrun's environment. */
    distribution: z
      .object({
        processesPerNode: z.number().int().min(1).max(64).default(1),
        nodes: z.number().int().min(1).max(100).default(1),
      })
      .strict()
      .optional(),
    /** Run on spot/preemptible capacity: interrupted jobs restart from their checkpoints. */
    spot: z
      .object({
        /** Total time, waiting and training, before the job fails as MaxWaitTimeExceeded. */
        maxWaitSeconds: secondsSchema(1),
        /** Where checkpoints are kept between interruptions. */
        checkpointPath: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    /** The job is stopped as MaxRuntimeExceeded after this long (backends default to one day). */
    maxRuntimeSeconds: secondsSchema(1).optional(),
    environment: environmentSchema.default({}),
    metricDefinitions: z.array(metricDefinitionSchema).default([]),
    tags: tagsSchema.optional(),
    providerOptions: providerOptionsSchema.optional(),
  })
  .strict()
  .superRefine((spec, context) => {
    if (!spec.image && !spec.command) {
      context.addIssue({
        code: 'custom',
        path: ['command'],
        message: 'expected a command, an image, or both',
      });
    }
    if (
      spec.spot &&
      spec.maxRuntimeSeconds !== undefined &&
      spec.spot.maxWaitSeconds < spec.maxRuntimeSeconds
    ) {
      context.addIssue({
        code: 'custom',
        path: ['spot', 'maxWaitSeconds'],
        message: `expected maxWaitSeconds at least maxRuntimeSeconds (${spec.maxRuntimeSeconds}), as SageMaker requires`,
      });
    }
  });
export type TrainingJobSpec = z.infer<typeof trainingJobSpecSchema>;
/** A training job as a user writes it, `providerOptions` typed as `TrainingProviderOptions` says. */
export type TrainingJobSpecInput = Omit<z.input<typeof trainingJobSpecSchema>, 'providerOptions'> & {
  providerOptions?: TypedProviderOptions<TrainingProviderOptions> | undefined;
};
