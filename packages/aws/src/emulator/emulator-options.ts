import type { Predictor } from './predictors.js';

/** How long the emulated services take. Defaults are fast (tens of ms), so tests need no options. */
export interface EmulatorDelays {
  /** Creating → InService (or Failed). Default 40 ms; the real service takes minutes. */
  endpointCreateMs?: number;
  /** Updating → InService, for UpdateEndpoint and UpdateEndpointWeightsAndCapacities. Default 40 ms. */
  endpointUpdateMs?: number;
  /** Deleting → gone. Default 20 ms. */
  endpointDeleteMs?: number;
  /** Each training step (Starting, Downloading, each epoch, Uploading, Stopping). Default 15 ms. */
  trainingStepMs?: number;
  /** How often target-tracking policies are evaluated against recorded metrics. Default 1 s (AWS: 1 min). */
  autoscalingEvaluationMs?: number;
}

/** Realistic delays, for demos that want to show the states. */
export const realisticDelays: Required<EmulatorDelays> = {
  endpointCreateMs: 4000,
  endpointUpdateMs: 3000,
  endpointDeleteMs: 1500,
  trainingStepMs: 1000,
  autoscalingEvaluationMs: 60_000,
};

export const fastDelays: Required<EmulatorDelays> = {
  endpointCreateMs: 40,
  endpointUpdateMs: 40,
  endpointDeleteMs: 20,
  trainingStepMs: 15,
  autoscalingEvaluationMs: 1000,
};

/**
 * A fault to inject. `operation` is the API name (`CreateEndpoint`, `InvokeEndpoint`, ...) or `*`.
 * Counted faults answer the next `count` matching calls (before the operation runs, so state is
 * unchanged) and are then used up; calls answered by a fault still appear in `emulator.calls()`.
 */
export type FaultSpec =
  | {
      /**
       * Answers the next `count` calls with the service's throttling error: `ThrottlingException`
       * "Rate exceeded", HTTP 400, as AWS's common errors give it (CloudWatch: its query-compatible
       * `Throttling`, also 400).
       */
      kind: 'throttle';
      operation: string;
      count: number;
    }
  | {
      /**
       * Answers the next `count` calls with error `type` (default `InternalFailure`, or
       * `ServiceUnavailable` for status 503) and HTTP `status` (default: the status AWS's common errors
       * give that type: 400 for `AccessDeniedException`, `ThrottlingException`, `ValidationException`,
       * `ResourceLimitExceeded`; 503 for `ServiceUnavailable`; else 500).
       */
      kind: 'error';
      operation: string;
      count: number;
      status?: number;
      /** The error name (`AccessDeniedException`, `ResourceLimitExceeded`, ...). */
      type?: string;
      /** Default: AWS's own wording for the type (IAM's "is not authorized to perform" for access denied). */
      message?: string;
    }
  | {
      /**
       * Answers the next `count` calls as IAM refuses a role without the permission:
       * `AccessDeniedException`, HTTP 400, "User: arn:aws:sts::ACCOUNT:assumed-role/... is not
       * authorized to perform: sagemaker:CreateEndpoint on resource: ARN because no identity-based
       * policy allows the sagemaker:CreateEndpoint action".
       */
      kind: 'accessDenied';
      operation: string;
      count: number;
      /** Replaces IAM's wording. */
      message?: string;
    }
  | {
      /** Delays every call (or the next `count`) by `ms`. */
      kind: 'latency';
      operation: string;
      ms: number;
      count?: number;
    }
  | {
      /** The named endpoint's next creation or update ends Failed with `reason`. */
      kind: 'failEndpoint';
      endpointName: string;
      reason?: string;
    }
  | {
      /** The named spot training job is interrupted `count` times (default 1) while training. */
      kind: 'interruptSpot';
      jobName: string;
      count?: number;
    };

export interface AwsEmulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** The region in ARNs. Default `us-east-1`. */
  region?: string;
  /** The account id in ARNs. Default `123456789012`. */
  accountId?: string;
  delays?: EmulatorDelays;
  /** Faults in force from the start; more can be added with `emulator.faults.add`. */
  faults?: FaultSpec[];
  /** Container images whose endpoints and training jobs fail (as an image that cannot be pulled). */
  badImages?: string[];
  /**
   * Answers InvokeEndpoint. Default: `builtInPredictor`, which computes per-row sums and argmax of the
   * request's tensors. Use `forwardingPredictor(url)` to send requests to a running mlscale server.
   */
  predictor?: Predictor;
}
