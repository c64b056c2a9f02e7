import { z } from 'zod';

/** How long each simulated step takes, in milliseconds. The defaults keep tests fast. */
export const emulatorDelaysSchema = z
  .object({
    /** From a long-running operation's start to `done` (UploadModel, CreateEndpoint, DeployModel, ...). */
    operationMs: z.number().min(0).max(3_600_000).default(50),
    /** DeployModel takes this much longer than other operations (realistic: many minutes). */
    deployExtraMs: z.number().min(0).max(3_600_000).default(50),
    /** Each custom job state transition (QUEUED → PENDING → RUNNING). */
    jobTransitionMs: z.number().min(0).max(3_600_000).default(50),
    /** How long a custom job runs before it succeeds. */
    jobRunMs: z.number().min(0).max(86_400_000).default(150),
  })
  .strict();
export type EmulatorDelays = z.infer<typeof emulatorDelaysSchema>;

/** Delays near what Vertex AI takes (minutes per deploy), for demos and timeout tests. */
export const realisticVertexDelays: EmulatorDelays = {
  operationMs: 20_000,
  deployExtraMs: 12 * 60_000,
  jobTransitionMs: 60_000,
  jobRunMs: 10 * 60_000,
};
export type EmulatorDelaysInput = z.input<typeof emulatorDelaysSchema>;

/** Errors for the next `calls` calls, of the named methods (`DeployModel`, ...) or of any method. */
const callFaultSchema = z
  .object({
    calls: z.number().int().min(1),
    methods: z.array(z.string().min(1)).optional(),
  })
  .strict();

/** Faults to inject. Each counts down as it fires. */
export const emulatorFaultsSchema = z
  .object({
    /** RESOURCE_EXHAUSTED (quota / rate limit) for the next calls. */
    resourceExhausted: callFaultSchema.optional(),
    /** UNAVAILABLE for the next calls. */
    unavailable: callFaultSchema.optional(),
    /** The next `count` operations started by these methods end with `error` instead of a response. */
    failOperations: z
      .object({
        methods: z.array(z.string().min(1)).min(1),
        count: z.number().int().min(1).default(1),
        message: z.string().default('The operation failed (injected by the Vertex emulator).'),
      })
      .strict()
      .optional(),
    /**
     * Cloud KMS keys the Vertex AI service agent cannot use: a CreateEndpoint or UploadModel naming one in
     * its `encryption_spec` is accepted, and its operation ends in FAILED_PRECONDITION. Stays until changed.
     */
    unusableEncryptionKeys: z.array(z.string().min(1)).optional(),
    /** SPOT custom jobs are preempted this many times while running, then restart and finish. */
    spotPreemptions: z.number().int().min(0).optional(),
    /** The next `count` custom jobs fail while running, with this message. */
    failJobs: z
      .object({
        count: z.number().int().min(1).default(1),
        message: z.string().default('The replica workerpool0-0 exited with a non-zero status of 1.'),
      })
      .strict()
      .optional(),
  })
  .strict();
export type EmulatorFaults = z.infer<typeof emulatorFaultsSchema>;
export type EmulatorFaultsInput = z.input<typeof emulatorFaultsSchema>;
