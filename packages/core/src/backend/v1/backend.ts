import type { SpecIssue } from '../../errors.js';
import type { ModelSignature } from '../../signature/model-signature.js';
import type { DeploymentSpec } from '../../spec/deployment.js';
import type { ModelReference, ModelVersion, RegisterModelSpec } from '../../spec/model.js';
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
 * The convergence contract, the same on every backend (a controller's, not a script's):
 * - A mutating call (`doCreate`, `doUpdate`, `doDelete`) records what is asked for durably in the
 *   backend (cloud tags, properties or labels, or the local state directory; secrets only sealed, see
 *   `sealDeploymentSpec`), may start the first cloud operations, and returns without waiting for them
 *   (`Creating`, `Updating`, `Deleting`).
 * - `doGet` and `doList` only read.
 * - `doReconcile` takes one idempotent step toward the recorded spec and returns the status after it.
 *   The client's waiter calls it until the deployment is InService or Failed (or gone, after a delete);
 *   any process can call it again after a crash and finish what another left. Side effects are ordered
 *   so a failure at any step leaves the previous spec serving with its autoscaling, and a refused change
 *   is abandoned: the record goes back to the serving spec, with the reason in `stateReason`.
 * - Adapters do not retry: they classify errors (`retryable`) and set their SDKs to one attempt; the
 *   client's retry policy is the one retry layer.
 */
export interface DeploymentOperationsV1 {
  /**
   * What makes `spec` impossible on this backend, by its platform's documented limits (a rollout step
   * it cannot express, a traffic split it refuses), each with the field and what is expected. Pure and
   * synchronous: the client calls it before any backend call and refuses the spec with `InvalidSpec`
   * (so `plan` and `deploy` refuse it alike, and nothing is sent to fail in the cloud). Optional: a
   * backend without limits beyond the spec schema leaves it out.
   */
  validateSpec?(spec: DeploymentSpec): SpecIssue[];
  /**
   * Records a new deployment and starts creating it. The same spec recorded already: its status (the
   * call is idempotent). Another spec recorded under the name: `AlreadyExists`.
   */
  doCreate(spec: DeploymentSpec, options: CallOptionsV1): Promise<DeploymentStatus>;
  /**
   * Records `spec` as the deployment's whole new spec (fields it leaves out are removed; the client's
   * `update` merges a partial change onto the recorded spec first) and starts converging: a new model
   * rolls out, other changes apply in place. Sealed values (from the record) stand for the values the
   * backend already runs. `NotFound` when there is no deployment.
   */
  doUpdate(spec: DeploymentSpec, options: CallOptionsV1): Promise<DeploymentStatus>;
  /** Records that the deployment is to go and starts deleting; resolves `false` when there was nothing. */
  doDelete(name: string, options: CallOptionsV1): Promise<boolean>;
  /**
   * One idempotent step toward the recorded state, without waiting on the cloud's long operations.
   * Resolves the status after the step, or `undefined` once a deleted deployment is gone.
   */
  doReconcile(name: string, options: CallOptionsV1): Promise<DeploymentStatus | undefined>;
  /** The deployment, or `undefined` when there is none. Only reads. */
  doGet(name: string, options: CallOptionsV1): Promise<DeploymentStatus | undefined>;
  /** Every deployment this backend manages. Only reads. */
  doList(options: CallOptionsV1): AsyncIterable<DeploymentStatus>;
  /** Runs one inference. */
  doPredict(name: string, request: PredictRequest, options: CallOptionsV1): Promise<PredictResponse>;
  /**
   * A model's inputs and outputs, for the client's signature gate: of what a deployment serves now
   * (`{ deployment }`: the backend knows best, from the loaded model or what it recorded with the
   * artifact), or of a model it would serve (`{ model }`: a local ONNX file, a registered version).
   * `undefined` when it cannot tell (an artifact it did not upload). Optional: without it, updates are
   * not checked.
   */
  doResolveSignature?(
    target: { deployment: string } | { model: ModelReference },
    options: CallOptionsV1,
  ): Promise<ModelSignature | undefined>;
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
