import type { FaultBook } from './faults.js';
import type { AzureMlPredictor } from './predictor.js';
import type { EmulatorState } from './state.js';

/** How long things take in the emulator. */
export interface AzureMlEmulatorDelays {
  /** A create, update or scale stays Creating/Updating/Scaling this long. Default 60 ms. */
  provisioningMs?: number;
  /** A delete stays Deleting this long. Default 40 ms. */
  deletionMs?: number;
  /** Each job status (Queued, Preparing, Running, ...) lasts this long. Default 60 ms. */
  jobStepMs?: number;
  /** Sent as Retry-After on operation polls when set; the SDK then polls at that pace. */
  pollRetryAfterSeconds?: number;
}

/**
 * Delays close to Azure's own (a managed deployment takes minutes, polls are paced by Retry-After), for
 * demos and for testing timeouts and progress reporting: `startAzureMlEmulator({ delays: realisticAzureMlDelays })`.
 */
export const realisticAzureMlDelays: Required<AzureMlEmulatorDelays> = {
  provisioningMs: 4 * 60_000,
  deletionMs: 60_000,
  jobStepMs: 30_000,
  pollRetryAfterSeconds: 10,
};

/** The workspace's blob datastore, as `workspaceblobstore` reports it. */
export interface AzureMlEmulatorStorage {
  /** Default `devstoreaccount1` (azurite's account). */
  accountName?: string;
  /** Default azurite's well-known development key. */
  accountKey?: string;
  /** Default `azureml-blobstore`. */
  containerName?: string;
}

/** What route handlers share. */
export interface EmulatorContext {
  state: EmulatorState;
  faults: FaultBook;
  predictor: AzureMlPredictor;
  delays: Required<Omit<AzureMlEmulatorDelays, 'pollRetryAfterSeconds'>> & { pollRetryAfterSeconds?: number };
  storage: Required<AzureMlEmulatorStorage>;
  /** The region every resource reports. */
  location: string;
  now: () => number;
}

/** One request, as handlers see it. */
export interface EmulatorRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** One response. */
export interface EmulatorReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The host ARM URLs carry; the redirect policy sends them to the emulator. */
export const armOrigin = 'https://management.azure.com';

export const machineLearningApiVersion = '2022-10-01';
