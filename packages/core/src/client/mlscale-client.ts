import type {
  AlertStatus,
  BackendV1,
  DeploymentStatus,
  LogEntry,
  MetricQueryResult,
  TrainingJobStatus,
} from '../backend/v1/index.js';
import type { RetryOptions } from '../retry.js';
import type {
  AlertRuleInput,
  AutoscalingPolicyInput,
  DeploymentSpecInput,
  LogQueryInput,
  MetricQueryInput,
  ModelVersion,
  MonitoringTarget,
  PredictRequestInput,
  PredictResponse,
  RegisterModelInput,
  TrainingJobSpecInput,
} from '../spec/index.js';
import type { AuditSink } from './audit.js';
import type { DeploymentChangeInput } from './deployment-change.js';
import type { MlscaleEvent } from './events.js';
import type { Logger } from './logger.js';

export interface MlscaleSettings {
  /** The backend every call goes to: `localGpu()`, `sagemaker()`, `azureml()`, `vertex()`, ... */
  backend: BackendV1;
  /** Diagnostics; silent by default. */
  logger?: Logger;
  /**
   * Retry policy for backend calls, the one retry layer: each backend call is tried at most
   * `maxAttempts` times (default 5), for retryable errors only. `false` turns retries off.
   */
  retry?: Omit<RetryOptions, 'signal' | 'onRetry'> | false;
  /** Progress of mutating operations. */
  onEvent?: (event: MlscaleEvent) => void;
  /** Where each mutating call is recorded; none by default (the CLI writes `.mlscale/audit.jsonl`). */
  audit?: AuditSink;
  /** Who is acting, for the audit record. Default: the OS user name. */
  actor?: string;
  /** How often waits poll. Defaults: 250 ms growing to 10 s. */
  polling?: { minDelayMs?: number; maxDelayMs?: number };
}

/** Options for calls that may wait for a long operation. */
export interface OperationOptions {
  /**
   * Wait until the operation completes (default true). `false` returns as soon as the backend has
   * recorded the change; `reconcile(name)` or a later call finishes it, from any process.
   */
  wait?: boolean;
  /** Most time to wait, in ms. Defaults: one hour for deployments, unlimited for training jobs. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Options of `update`. */
export interface UpdateOptions extends OperationOptions {
  /**
   * The change is the whole new spec: fields it leaves out are removed rather than kept (what
   * `mlscale apply` does with a config file). Default false: the change merges onto the recorded spec.
   */
  replace?: boolean;
}

/** Options for read calls. */
export interface ReadOptions {
  signal?: AbortSignal;
}

/** The mlscale API. */
export interface MlscaleClient {
  readonly backend: BackendV1;
  /** Creates a deployment and (by default) waits until it serves. Deploying the same spec again is a no-op. */
  deploy(spec: DeploymentSpecInput, options?: OperationOptions): Promise<DeploymentStatus>;
  /**
   * Changes a deployment: the fields given replace the recorded ones, `null` removes one, the rest stay
   * (see `DeploymentChangeInput`; `replace: true` makes the change the whole spec). A new model rolls out
   * as the spec's `rollout` says; other changes apply in place.
   */
  update(change: DeploymentChangeInput, options?: UpdateOptions): Promise<DeploymentStatus>;
  /** Sets a fixed replica count, removing any autoscaling policy. */
  scale(name: string, replicas: number, options?: OperationOptions): Promise<DeploymentStatus>;
  /** Sets the autoscaling policy (the replica count moves inside its bounds), or removes it with `null`. */
  autoscale(
    name: string,
    policy: AutoscalingPolicyInput | null,
    options?: OperationOptions,
  ): Promise<DeploymentStatus>;
  /** Deletes a deployment; deleting one that is not there is not an error. */
  delete(name: string, options?: OperationOptions): Promise<{ deleted: boolean }>;
  /**
   * Finishes what the backend has recorded for a deployment (a change another process started, or one
   * a crash interrupted): resolves its status once it serves the recorded spec, or `undefined` once a
   * deletion is done. With `wait: false`, takes one step.
   */
  reconcile(name: string, options?: OperationOptions): Promise<DeploymentStatus | undefined>;
  /** A deployment as recorded and observed (this only reads); throws `NotFound` when there is none. */
  get(name: string, options?: ReadOptions): Promise<DeploymentStatus>;
  /** Every deployment. */
  list(options?: ReadOptions): AsyncIterable<DeploymentStatus>;
  /** One inference (V2 tensors). */
  predict(name: string, request: PredictRequestInput, options?: ReadOptions): Promise<PredictResponse>;
  /** Starts a training job and (by default) waits until it ends; throws if it fails. */
  train(spec: TrainingJobSpecInput, options?: OperationOptions): Promise<TrainingJobStatus>;
  /** A training job; throws `NotFound` when there is none. */
  job(name: string, options?: ReadOptions): Promise<TrainingJobStatus>;
  /** Every training job. */
  jobs(options?: ReadOptions): AsyncIterable<TrainingJobStatus>;
  /** Stops a training job and (by default) waits until it has stopped. */
  stopJob(name: string, options?: OperationOptions): Promise<TrainingJobStatus>;
  /** Aligned metric series. */
  metrics(query: MetricQueryInput, options?: ReadOptions): Promise<MetricQueryResult>;
  /**
   * Log entries; with `follow`, keeps going as new ones arrive until the signal aborts (then the
   * iteration ends, without an error) or the job ends.
   */
  logs(target: MonitoringTarget, query?: LogQueryInput & ReadOptions): AsyncIterable<LogEntry>;
  readonly alerts: {
    put(rule: AlertRuleInput, options?: ReadOptions): Promise<AlertStatus>;
    list(options?: ReadOptions): Promise<AlertStatus[]>;
    delete(name: string, options?: ReadOptions): Promise<{ deleted: boolean }>;
  };
  readonly models: {
    register(input: RegisterModelInput, options?: ReadOptions): Promise<ModelVersion>;
    /** A version (the latest by default); throws `NotFound` when there is none. */
    get(name: string, version?: number, options?: ReadOptions): Promise<ModelVersion>;
    list(name?: string, options?: ReadOptions): AsyncIterable<ModelVersion>;
  };
  /** Releases what the backend holds. */
  close(): Promise<void>;
}
