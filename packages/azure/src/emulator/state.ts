import { randomBytes, randomUUID } from 'node:crypto';

/** ARM's envelope around every resource. */
export interface ArmResource {
  id: string;
  name: string;
  type: string;
  location?: string;
  tags?: Record<string, string>;
  kind?: string;
  identity?: Record<string, unknown>;
  sku?: { name: string; tier?: string; capacity?: number };
  properties: Record<string, unknown>;
  systemData: Record<string, string>;
}

/** An error in ARM's words, carried by failed operations and resources. */
export interface ArmErrorDetail {
  code: string;
  message: string;
}

/** A provisioning state that changes by itself at `settleAt`. */
export interface PendingTransition {
  settleAt: number;
  to: 'Succeeded' | 'Failed';
  error?: ArmErrorDetail;
}

export interface DeploymentRecord {
  resource: ArmResource;
  pending?: PendingTransition;
  /** When set, the deployment disappears at this time. */
  deletingAt?: number;
  error?: ArmErrorDetail;
  storageInitializerLog: string[];
  inferenceServerLog: string[];
  /** When autoscale last changed the capacity, for its cooldowns. */
  lastScaleAt?: number;
}

export interface EndpointRecord {
  resource: ArmResource;
  pending?: PendingTransition;
  deletingAt?: number;
  keys: { primaryKey: string; secondaryKey: string };
  /** AMLToken mode's current token. */
  token: string;
  deployments: Map<string, DeploymentRecord>;
  /** Smooth weighted round-robin state per deployment (lowercased name), for the traffic split. */
  routingWeights: Map<string, number>;
}

/** One job status and when it starts. */
export interface JobStep {
  status: string;
  at: number;
}

export interface JobRecord {
  resource: ArmResource;
  steps: JobStep[];
}

export interface AssetRecord {
  container: ArmResource;
  versions: Map<string, ArmResource & { createdAtMs: number }>;
}

export interface WorkspaceRecord {
  resource: ArmResource;
  endpoints: Map<string, EndpointRecord>;
  jobs: Map<string, JobRecord>;
  models: Map<string, AssetRecord>;
  environments: Map<string, AssetRecord>;
  datastores: Map<string, ArmResource>;
}

/** What polling an operation finds. */
export type OperationOutcome =
  | { state: 'running' }
  | { state: 'succeeded'; body?: unknown }
  | { state: 'failed'; error: ArmErrorDetail };

export interface OperationRecord {
  id: string;
  startedAt: number;
  endedAt?: number;
  check: () => OperationOutcome;
}

/** One scoring request, for Azure Monitor metrics. */
export interface ScoringSample {
  time: number;
  /** Lowercased endpoint resource id. */
  endpointId: string;
  deployment: string;
  statusCode: number;
  latencyMs: number;
}

/** Everything the emulator holds. */
export interface EmulatorState {
  workspaces: Map<string, WorkspaceRecord>;
  operations: Map<string, OperationRecord>;
  autoscaleSettings: Map<string, ArmResource>;
  samples: ScoringSample[];
}

export function createState(): EmulatorState {
  return { workspaces: new Map(), operations: new Map(), autoscaleSettings: new Map(), samples: [] };
}

/** ARM names compare case-insensitively. */
export function key(name: string): string {
  return name.toLowerCase();
}

export function systemData(createdAt: string, previous?: Record<string, string>): Record<string, string> {
  return {
    createdAt: previous?.createdAt ?? createdAt,
    createdBy: previous?.createdBy ?? 'mlscale-emulator',
    createdByType: 'User',
    lastModifiedAt: createdAt,
    lastModifiedBy: 'mlscale-emulator',
    lastModifiedByType: 'User',
  };
}

export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}

export function newOperationId(): string {
  return randomUUID();
}
