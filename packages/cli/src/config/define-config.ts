import type { DeploymentSpecInput, TrainingJobSpecInput } from '@mlscale/core';
import type { BackendProvider, EnvironmentOverride, PricingOverride } from './config-schema.js';

/** Fields the file adds to each resource. */
export interface ResourceExtras {
  /** The name of an entry under `backends`. */
  backend?: string;
  /** Resources of this file to converge first. */
  dependsOn?: string[];
}

/** A named backend and its factory settings (`region`, `subscriptionId`, `project`, ...). */
export interface BackendEntryInput {
  /** Which factory builds it; inferred when the entry's name is `local`, `aws`, `azure` or `gcp`. */
  provider?: Exclude<BackendProvider, 'memory' | 'file'> | BackendProvider;
  [setting: string]: unknown;
}

/** An mlscale.config.ts / mlscale.yaml / mlscale.json file, as written. */
export interface MlscaleConfigInput {
  $schema?: string;
  /** Names the state file (default `default`). */
  project?: string;
  backends?: Record<string, BackendEntryInput>;
  deployments?: (DeploymentSpecInput & ResourceExtras)[];
  trainingJobs?: (TrainingJobSpecInput & ResourceExtras)[];
  environments?: Record<string, EnvironmentOverride>;
  /** Hourly prices overriding the shipped table. */
  pricing?: PricingOverride;
}

/** Types an `mlscale.config.ts` file: `export default defineConfig({ ... })`. Returns its argument. */
export function defineConfig(config: MlscaleConfigInput): MlscaleConfigInput {
  return config;
}
