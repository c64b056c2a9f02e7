import { resourceNameSchema } from '@mlscale/core';
import { z } from 'zod';

/** Backend kinds the CLI can build by name. `memory` and `file` are test-only and left out of docs. */
export const backendProviders = ['local', 'aws', 'azure', 'gcp', 'memory', 'file'] as const;
export type BackendProvider = (typeof backendProviders)[number];

/** One named backend: its kind (inferred from the name when the name is a kind) and the factory's settings. */
export const backendEntrySchema = z
  .object({
    /** Which factory builds it: `local` (localGpu), `aws` (sagemaker), `azure` (azureml), `gcp` (vertex). */
    provider: z.string().optional(),
  })
  .catchall(z.unknown());

/** Fields the file adds to a deployment or training job spec. */
export const resourceExtrasShape = {
  /** The name of an entry under `backends` (default: the only backend, or the environment's `backend`). */
  backend: z.string().min(1).optional(),
  /** Resources to converge first: training jobs and deployments of this file, by name. */
  dependsOn: z.array(resourceNameSchema).optional(),
};

/** A resource entry before its spec is checked with core's schema. */
export const resourceEntrySchema = z.looseObject(resourceExtrasShape);

/** Hourly prices that replace or extend the shipped table, per provider and instance type. */
export const pricingOverrideSchema = z
  .object({
    aws: z.record(z.string(), z.number().min(0)).optional(),
    azure: z.record(z.string(), z.number().min(0)).optional(),
    gcp: z.record(z.string(), z.number().min(0)).optional(),
  })
  .strict();
export type PricingOverride = z.infer<typeof pricingOverrideSchema>;

/** What one environment (`--env prod`) changes. */
export const environmentOverrideSchema = z
  .object({
    /** The backend every resource uses in this environment, unless the resource's override names another. */
    backend: z.string().min(1).optional(),
    /** Backend settings merged over the top-level ones. */
    backends: z.record(z.string(), backendEntrySchema).optional(),
    /** Per deployment name: fields merged over the deployment (`null` removes a field). */
    deployments: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    /** Per training job name: fields merged over the job. */
    trainingJobs: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  })
  .strict();
export type EnvironmentOverride = z.infer<typeof environmentOverrideSchema>;

/** The file's outline; each resource's spec is then checked against core's schemas. */
export const configFileSchema = z
  .object({
    /** Editors' JSON Schema link; ignored. */
    $schema: z.string().optional(),
    /** Names the state file (default `default`), so two projects in one folder keep apart. */
    project: resourceNameSchema.optional(),
    backends: z
      .record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected a lowercase name'), backendEntrySchema)
      .default({}),
    deployments: z.array(resourceEntrySchema).default([]),
    trainingJobs: z.array(resourceEntrySchema).default([]),
    environments: z
      .record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected a lowercase name'), environmentOverrideSchema)
      .default({}),
    pricing: pricingOverrideSchema.optional(),
  })
  .strict();
