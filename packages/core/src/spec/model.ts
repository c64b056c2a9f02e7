import { z } from 'zod';
import { resourceNameSchema } from './common.js';

/** Model formats mlscale serves. ONNX is the one every backend runs through the mlscale server. */
export const modelFormatSchema = z.enum(['onnx']);
export type ModelFormat = z.infer<typeof modelFormatSchema>;

/** A model in a backend's registry, by name and version (`latest` when omitted). */
export const registryModelReferenceSchema = z
  .object({
    /** Registered model name. */
    name: resourceNameSchema,
    /** A version number, or `latest`. */
    version: z.union([z.number().int().positive(), z.literal('latest')]).default('latest'),
  })
  .strict();

/** A model artifact by location: a local path, `file://`, `s3://`, `gs://`, `azureml://` or `https://`. */
export const artifactModelReferenceSchema = z
  .object({
    /** Where the artifact is. */
    uri: z.string().min(1, 'expected a path or URI'),
    /** Its format. */
    format: modelFormatSchema.default('onnx'),
  })
  .strict();

/** Which model a deployment serves. */
export const modelReferenceSchema = z.union([registryModelReferenceSchema, artifactModelReferenceSchema], {
  error: 'expected { name, version? } (a registered model) or { uri, format? } (an artifact)',
});
export type ModelReference = z.infer<typeof modelReferenceSchema>;
export type ModelReferenceInput = z.input<typeof modelReferenceSchema>;

/** Where a model came from: the job, its inputs and hyperparameters. */
export const lineageSchema = z
  .object({
    /** The training job that produced the model. */
    jobName: z.string().optional(),
    /** Input channels of that job, name → location. */
    inputs: z.record(z.string(), z.string()).optional(),
    /** The hyperparameters the job ran with. */
    hyperparameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    /** The model version this one was derived from, if any. */
    parent: z.object({ name: z.string(), version: z.number().int().positive() }).optional(),
  })
  .strict();
export type Lineage = z.infer<typeof lineageSchema>;

/** Per-feature statistics of the training data, the baseline drift is measured against. */
export const featureBaselineSchema = z.object({
  mean: z.number(),
  standardDeviation: z.number().nonnegative(),
  /** Histogram bin edges (n + 1 values) and the share of training rows in each bin (n values). */
  binEdges: z.array(z.number()).min(2),
  binFractions: z.array(z.number().min(0).max(1)).min(1),
});

/** What `models.register` takes. */
export const registerModelSchema = z
  .object({
    /** The model's name; versions accumulate under it. */
    name: resourceNameSchema,
    /** The artifact: a local file or folder, or a URI the backend can read. */
    path: z.string().min(1, 'expected a path or URI'),
    format: modelFormatSchema.default('onnx'),
    /** Free-form metadata kept with the version (accuracy, framework, ...). */
    metadata: z.record(z.string(), z.unknown()).default({}),
    lineage: lineageSchema.default({}),
    /** Input statistics recorded for drift detection, feature index → baseline. */
    baseline: z.array(featureBaselineSchema).optional(),
  })
  .strict();
export type RegisterModelInput = z.input<typeof registerModelSchema>;
export type RegisterModelSpec = z.infer<typeof registerModelSchema>;

/** A registered model version, as a backend's registry reports it. */
export interface ModelVersion {
  name: string;
  version: number;
  format: ModelFormat;
  /** Where the stored artifact is (a content-addressed path locally, a cloud URI elsewhere). */
  uri: string;
  /** sha256 of the artifact's bytes (of a folder: of its sorted file list and contents). */
  sha256: string;
  sizeBytes: number;
  createdAt: Date;
  metadata: Record<string, unknown>;
  lineage: Lineage;
  baseline?: z.infer<typeof featureBaselineSchema>[];
}
