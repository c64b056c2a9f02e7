import type { BackendV1 } from '../backend/v1/index.js';
import type { MlscaleSettings } from '../client/mlscale-client.js';
import type {
  AutoscalingPolicyInput,
  DeploymentSpecInput,
  ModelReferenceInput,
  PredictRequest,
  PredictResponse,
  RegisterModelInput,
  TrainingJobSpecInput,
} from '../spec/index.js';
import type { ConformanceCloud, ConformanceFault } from './conformance-cloud.js';

/** What `setup` starts: the backend, and what the suite needs around it. */
export interface ConformanceSetup {
  backend: BackendV1;
  cleanup?: () => Promise<void>;
  /** The cloud side (an emulator's view): enables the fault, restart, secret and inventory tests. */
  cloud?: ConformanceCloud;
  /**
   * A new backend over the same cloud or state directory, as another process would create it (no memory
   * of this one's secrets or tasks): enables the restart tests. The suite closes what it returns.
   */
  reopen?: () => Promise<BackendV1>;
}

/** What a backend's test file gives the shared suite. */
export interface BackendConformanceOptions {
  /** Shown in the suite's title. */
  name: string;
  /** Starts the backend (and whatever it talks to: an emulator, a server). Called once. */
  setup: () => Promise<ConformanceSetup>;
  /** A deployment the backend can serve, under the given name. */
  deployment: (name: string) => DeploymentSpecInput;
  /** A request the deployed model answers. */
  predictRequest: PredictRequest;
  /** Checks an answer; by default, one output per requested output with data matching its shape. */
  checkPrediction?: (response: PredictResponse, request: PredictRequest) => void;
  /** Another model the backend can serve with the same inputs and outputs: enables the update tests. */
  updatedModel?: ModelReferenceInput;
  /**
   * A model whose inputs or outputs differ from `deployment()`'s (another input shape, say): enables the
   * signature gate test. The backend must be able to tell both signatures (`doResolveSignature`).
   */
  incompatibleModel?: ModelReferenceInput;
  /** A rollout the backend accepts for `updatedModel`. Default `{ steps: [50, 100], stepSeconds: 0 }`. */
  rollout?: DeploymentSpecInput['rollout'];
  /** An autoscaling policy the backend accepts: enables the autoscaling tests. */
  autoscaling?: AutoscalingPolicyInput;
  /** Whether deployments pass `environment` to the container (default true): enables the secret tests. */
  environment?: boolean;
  /** Whether a deployment can serve before one reconcile step (then the timeout test is skipped). */
  convergesAtOnce?: boolean;
  /** A training job the backend can run to completion, under the given name (skips training tests if absent). */
  trainingJob?: (name: string) => TrainingJobSpecInput;
  /** A model registration the backend accepts (skips registry tests if absent). */
  modelRegistration?: (name: string) => RegisterModelInput;
  /** Faults the sweeps inject. Default all three. */
  faults?: readonly ConformanceFault[];
  /** Prefix for resource names, so suites sharing a backend do not collide. Default `conf`. */
  namePrefix?: string;
  /** Per-test timeout. Default 60 s; the sweeps get ten times as long. */
  timeoutMs?: number;
  /** Passed to the client (polling intervals, retry). */
  client?: Omit<MlscaleSettings, 'backend'>;
}
