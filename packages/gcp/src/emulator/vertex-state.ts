import type { Timestamp } from './clock.js';

/** Wire objects are kept as proto-loader reads them (camelCase fields, enums and int64 as strings). */
export type Wire = Record<string, unknown>;

/** A Vertex Model version. */
export interface StoredModel extends Wire {
  /** `projects/P/locations/L/models/ID` (the same for every version). */
  name: string;
  versionId: string;
  versionAliases: string[];
  displayName: string;
  labels: Record<string, string>;
  artifactUri?: string;
  containerSpec?: Wire;
  createTime: Timestamp;
  updateTime: Timestamp;
  versionCreateTime: Timestamp;
  deployedModels: { endpoint: string; deployedModelId: string }[];
}

/** A model deployed on an endpoint. */
export interface StoredDeployedModel extends Wire {
  id: string;
  /** The model version's name, `models/ID@VERSION`... as the request gave it, resolved. */
  model: string;
  modelVersionId: string;
  displayName: string;
  dedicatedResources?: {
    machineSpec?: Wire;
    minReplicaCount?: number;
    maxReplicaCount?: number;
    autoscalingMetricSpecs?: { metricName: string; target: number }[];
    spot?: boolean;
  };
  createTime: Timestamp;
}

/** A Vertex Endpoint. */
export interface StoredEndpoint extends Wire {
  name: string;
  displayName: string;
  description?: string;
  labels: Record<string, string>;
  deployedModels: StoredDeployedModel[];
  trafficSplit: Record<string, number>;
  createTime: Timestamp;
  updateTime: Timestamp;
  etag: string;
}

/** A Vertex CustomJob. */
export interface StoredCustomJob extends Wire {
  name: string;
  displayName: string;
  jobSpec: Wire;
  labels: Record<string, string>;
  state: string;
  createTime: Timestamp;
  updateTime: Timestamp;
  startTime?: Timestamp;
  endTime?: Timestamp;
  error?: { code: number; message: string };
}

/** Every resource the emulator holds. */
export interface VertexState {
  /** Model id → its versions, oldest first. */
  models: Map<string, StoredModel[]>;
  endpoints: Map<string, StoredEndpoint>;
  customJobs: Map<string, StoredCustomJob>;
  /** Custom job name → the states it went through, in order (for tests of preemption and cancel). */
  jobHistory: Map<string, string[]>;
  /** Custom job name → log lines it wrote. */
  jobLogs: Map<string, { time: Date; message: string }[]>;
}

export function createVertexState(): VertexState {
  return {
    models: new Map(),
    endpoints: new Map(),
    customJobs: new Map(),
    jobHistory: new Map(),
    jobLogs: new Map(),
  };
}

/** What a custom job's primary replica is given, as Vertex gives it to the container. */
export interface JobRun {
  job: StoredCustomJob;
  /** The environment of worker pool 0, replica 0: the spec's env plus AIP_* and CLUSTER_SPEC. */
  environment: Record<string, string>;
  /** How many times the job was preempted and restarted so far. */
  attempt: number;
  /** Aborts when the job is cancelled or preempted. */
  signal: AbortSignal;
  /** Appends a log line to the job's logs. */
  log(message: string): void;
}

/** Runs a custom job; resolves when it succeeds and throws (with a message) when it fails. */
export type JobRunner = (run: JobRun) => Promise<void>;
