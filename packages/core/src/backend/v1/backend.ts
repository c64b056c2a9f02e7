import type { AutoscalingPolicy, DeploymentSpec } from '../../spec/deployment.js';
import type { ModelVersion, RegisterModelSpec } from '../../spec/model.js';
import type { AlertRule, LogQuery, MetricQuery, MonitoringTarget } from '../../spec/monitoring.js';
import type { PredictRequest, PredictResponse } from '../../spec/predict.js';
import type { TrainingJobSpec } from '../../spec/training.js';
import type { BackendCapabilitiesV1 } from './capabilities.js';
import type {
  AlertStatus,
  DeploymentStatus,
  LogEntry,
  MetricQueryResult,
  TrainingJobStatus,
} from './status.js';

/** Passed to every backend call. */
export interface CallOptionsV1 {
  /** Aborts the call; backends stop work and reject with an `Aborted` MlscaleError. */
  signal?: AbortSignal;
}

/**
 * Deployment calls. `do*` marks low-level calls: users call the client, which validates, checks
 * capabilities, retries, waits and audits around these.
 *
 * Mutating calls start the change and return the status right after (a `Creating` or `Updating`
 * state is fine); the client waits through `doGet`.
 */
export interface DeploymentOperationsV1 {
  /** Creates a deployment. Throws `AlreadyExists` when one with the name exists with a different spec hash. */
  doCreate(spec: DeploymentSpec, options: CallOptionsV1): Promise<DeploymentStatus>;
  /** The deployment, or `undefined` when there is none. */
  doGet(name: string, options: CallOptionsV1): Promise<DeploymentStatus | undefined>;
  /** Every deployment this backend manages. */
  doList(options: CallOptionsV1): AsyncIterable<DeploymentStatus>;
  /** Replaces the spec: a new model version rolls out, other changes apply in place. */
  doUpdate(spec: DeploymentSpec, options: CallOptionsV1): Promise<DeploymentStatus>;
  /** Sets a fixed replica count. */
  doScale(name: string, replicas: number, options: CallOptionsV1): Promise<DeploymentStatus>;
  /** Sets (or with `null`, removes) the autoscaling policy. */
  doAutoscale(
    name: string,
    policy: AutoscalingPolicy | null,
    options: CallOptionsV1,
  ): Promise<DeploymentStatus>;
  /** Starts deleting; resolves `false` when there was nothing to delete (deleting is idempotent). */
  doDelete(name: string, options: CallOptionsV1): Promise<boolean>;
  /** Runs one inference. */
  doPredict(name: string, request: PredictRequest, options: CallOptionsV1): Promise<PredictResponse>;
}

/** Training calls. */
export interface TrainingOperationsV1 {
  /** Starts a job. Throws `AlreadyExists` when the name is taken. */
  doCreate(spec: TrainingJobSpec, options: CallOptionsV1): Promise<TrainingJobStatus>;
  doGet(name: string, options: CallOptionsV1): Promise<TrainingJobStatus | undefined>;
  doList(options: CallOptionsV1): AsyncIterable<TrainingJobStatus>;
  /** Asks the job to stop; resolves with its status (`Stopping` or terminal). */
  doStop(name: string, options: CallOptionsV1): Promise<TrainingJobStatus>;
}

/** Monitoring calls. */
export interface MonitoringOperationsV1 {
  doMetrics(query: MetricQuery, options: CallOptionsV1): Promise<MetricQueryResult>;
  doLogs(target: MonitoringTarget, query: LogQuery, options: CallOptionsV1): AsyncIterable<LogEntry>;
  doPutAlert(rule: AlertRule, options: CallOptionsV1): Promise<AlertStatus>;
  doListAlerts(options: CallOptionsV1): Promise<AlertStatus[]>;
  /** Resolves `false` when there was no such alert. */
  doDeleteAlert(name: string, options: CallOptionsV1): Promise<boolean>;
}

/** Model registry calls. */
export interface ModelOperationsV1 {
  doRegister(spec: RegisterModelSpec, options: CallOptionsV1): Promise<ModelVersion>;
  /** A version (the latest when `version` is omitted), or `undefined`. */
  doGet(name: string, version: number | undefined, options: CallOptionsV1): Promise<ModelVersion | undefined>;
  /** Versions of one model, or of all models, newest first. */
  doList(name: string | undefined, options: CallOptionsV1): AsyncIterable<ModelVersion>;
}

/**
 * The one interface a backend implements: version 1 of the mlscale backend specification.
 * A future v2 is a new folder beside this one; v1 stays as it is.
 */
export interface BackendV1 {
  readonly specificationVersion: 'v1';
  /** A short id: `local`, `aws`, `azure`, `gcp`, or a third party's. */
  readonly provider: string;
  readonly capabilities: BackendCapabilitiesV1;
  readonly deployments: DeploymentOperationsV1;
  readonly training?: TrainingOperationsV1;
  readonly monitoring?: MonitoringOperationsV1;
  readonly models?: ModelOperationsV1;
  /** Releases what the backend holds (servers, workers, clients). Called by `client.close()`. */
  close?(): Promise<void>;
}
