import { z } from 'zod';
import {
  type DeploymentProviderOptions,
  environmentSchema,
  providerOptionsSchema,
  resourceNameSchema,
  secondsSchema,
  type TypedProviderOptions,
  tagsSchema,
} from './common.js';
import { modelReferenceSchema } from './model.js';

/** What a replica runs on. Cloud instance type names pass through to the backend. */
export const instanceSchema = z
  .object({
    /** The backend's instance or machine type (`ml.g5.xlarge`, `Standard_NC4as_T4_v3`, `n1-standard-4`). */
    type: z.string().min(1).optional(),
    /** GPUs per replica. */
    accelerator: z
      .object({
        /** Accelerator kind (`nvidia-tesla-t4`, `nvidia-a10g`, ... or `gpu` for any). */
        type: z.string().min(1),
        count: z.number().int().min(1).default(1),
      })
      .strict()
      .optional(),
  })
  .strict();
export type Instance = z.infer<typeof instanceSchema>;

/**
 * Per-replica metrics the target-tracking autoscaler can follow. The local backend measures all of them;
 * each cloud adapter maps them to its native autoscaler or rejects the ones it cannot.
 */
export const autoscalingMetricSchema = z.enum([
  'concurrentRequests',
  'requestsPerSecond',
  'latencyP95',
  'cpuUtilization',
  'gpuUtilization',
]);
export type AutoscalingMetric = z.infer<typeof autoscalingMetricSchema>;

/** Target tracking: keep the per-replica metric near `target.value`. */
export const autoscalingPolicySchema = z
  .object({
    /** Fewest replicas; 0 allows scale to zero (the first request waits for a replica to start). */
    minReplicas: z.number().int().min(0),
    /** Most replicas. */
    maxReplicas: z.number().int().min(1).max(1000),
    target: z
      .object({
        metric: autoscalingMetricSchema,
        /** The per-replica value to hold (requests, requests/s, milliseconds or percent). */
        value: z.number().positive('expected a target above 0'),
      })
      .strict(),
    /** Seconds after a scale-in before another scale-in. */
    scaleInCooldownSeconds: secondsSchema().default(300),
    /** Seconds after a scale-out before another scale-out. */
    scaleOutCooldownSeconds: secondsSchema().default(60),
    /** Relative band around the target in which nothing changes (0.1 = ±10%). */
    tolerance: z.number().min(0).max(1).default(0.1),
    /** Seconds of zero traffic before scaling to zero, when `minReplicas` is 0. */
    scaleToZeroAfterSeconds: secondsSchema().default(300),
  })
  .strict()
  .refine((policy) => policy.minReplicas <= policy.maxReplicas, {
    message: 'expected minReplicas to be at most maxReplicas',
    path: ['minReplicas'],
  });
export type AutoscalingPolicy = z.infer<typeof autoscalingPolicySchema>;
export type AutoscalingPolicyInput = z.input<typeof autoscalingPolicySchema>;

/** One model version's share of traffic. */
export const trafficEntrySchema = z
  .object({
    model: modelReferenceSchema,
    /** Percent of requests, 0–100. */
    weight: z.number().min(0).max(100),
  })
  .strict();

/** How `update` moves traffic to a new model version. */
export const rolloutSchema = z
  .object({
    /** Percent of traffic on the new version at each step, ending at 100. */
    steps: z
      .array(z.number().gt(0).max(100))
      .min(1)
      .default([10, 50, 100])
      .refine((steps) => steps.at(-1) === 100, 'expected the last step to be 100')
      .refine(
        (steps) => steps.every((step, index) => index === 0 || step > steps[index - 1]!),
        'expected increasing steps',
      ),
    /** Seconds to observe each step before the next. */
    stepSeconds: z.number().min(0).default(30),
    /** Roll back by itself when the new version's error rate passes this share (0–1) during a step. */
    maxErrorRate: z.number().min(0).max(1).default(0.05),
    /** Fewest requests in a step before its error rate is judged. */
    minRequests: z.number().int().min(0).default(20),
    /**
     * Let the new model's inputs or outputs differ from the serving model's (callers must be ready for
     * it). Without it, an update whose signature would break callers is refused before anything changes;
     * with it, the change must switch all traffic at once (`steps: [100]`), so no caller gets answers of
     * two shapes.
     */
    allowSignatureChange: z.boolean().optional(),
  })
  .strict();
export type Rollout = z.infer<typeof rolloutSchema>;

/** Dynamic batching and queueing on the mlscale server (Triton's dynamic_batching, simplified). */
export const batchingSchema = z
  .object({
    /** Most requests' rows merged into one inference. 1 turns batching off. */
    maxBatchSize: z.number().int().min(1).max(4096).default(32),
    /** How long the first request of a batch waits for others. */
    maxQueueDelayMs: z.number().min(0).max(10_000).default(2),
    /** Requests waiting beyond this are refused with 429 and Retry-After. */
    maxQueueSize: z.number().int().min(1).default(1024),
    /** A request still unanswered after this fails with 503. */
    requestTimeoutMs: z.number().int().min(1).default(60_000),
  })
  .strict();
export type Batching = z.infer<typeof batchingSchema>;

/** Network placement. */
export const networkSchema = z
  .object({
    subnets: z.array(z.string().min(1)).optional(),
    securityGroups: z.array(z.string().min(1)).optional(),
    /** No public endpoint: reachable only inside the network. */
    private: z.boolean().default(false),
  })
  .strict();

/** A model served behind one endpoint. */
export const deploymentSpecSchema = z
  .object({
    /** The deployment's name: a DNS label of 3–32 characters. */
    name: resourceNameSchema,
    /** The model to serve (all traffic, unless `traffic` splits it). */
    model: modelReferenceSchema,
    instance: instanceSchema.optional(),
    /** Replicas to run when no autoscaling policy is set (and the starting count when one is). */
    replicas: z.number().int().min(0).max(1000).default(1),
    autoscaling: autoscalingPolicySchema.optional(),
    /** Serverless serving where the backend has it (SageMaker Serverless, ...). */
    serverless: z
      .object({
        memoryMb: z.number().int().min(1024).max(6144).default(2048),
        maxConcurrency: z.number().int().min(1).max(200).default(20),
      })
      .strict()
      .optional(),
    /** A split between model versions; weights add up to 100. Absent: all traffic to `model`. */
    traffic: z.array(trafficEntrySchema).min(1).optional(),
    rollout: rolloutSchema.optional(),
    batching: batchingSchema.optional(),
    environment: environmentSchema.optional(),
    network: networkSchema.optional(),
    /** A customer-managed key (KMS key ARN, Key Vault key id, Cloud KMS key name). */
    encryption: z
      .object({ keyId: z.string().min(1) })
      .strict()
      .optional(),
    tags: tagsSchema.optional(),
    providerOptions: providerOptionsSchema.optional(),
  })
  .strict()
  .superRefine((spec, context) => {
    if (spec.traffic) {
      const total = spec.traffic.reduce((sum, entry) => sum + entry.weight, 0);
      if (Math.abs(total - 100) > 1e-9) {
        context.addIssue({
          code: 'custom',
          path: ['traffic'],
          message: `expected weights adding up to 100, got ${total}`,
        });
      }
    }
    if (
      spec.autoscaling &&
      (spec.replicas < spec.autoscaling.minReplicas || spec.replicas > spec.autoscaling.maxReplicas)
    ) {
      context.addIssue({
        code: 'custom',
        path: ['replicas'],
        message: `expected replicas within autoscaling bounds [${spec.autoscaling.minReplicas}, ${spec.autoscaling.maxReplicas}]`,
      });
    }
    if (spec.serverless && spec.instance?.accelerator) {
      context.addIssue({
        code: 'custom',
        path: ['serverless'],
        message: 'expected either serverless or an accelerator: serverless endpoints have no GPUs',
      });
    }
  });

/** A deployment as the backend receives it: defaults applied. */
export type DeploymentSpec = z.infer<typeof deploymentSpecSchema>;
/**
 * A deployment as a user writes it: defaulted fields optional, `providerOptions` typed by the backend
 * packages imported (see `DeploymentProviderOptions`).
 */
export type DeploymentSpecInput = Omit<z.input<typeof deploymentSpecSchema>, 'providerOptions'> & {
  providerOptions?: TypedProviderOptions<DeploymentProviderOptions> | undefined;
};
