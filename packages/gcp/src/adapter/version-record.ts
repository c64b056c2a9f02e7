import type { protos } from '@google-cloud/aiplatform';
import { featureBaselineSchema, lineageSchema, modelSignatureSchema } from '@mlscale/core';
import { z } from 'zod';

/**
 * What mlscale keeps beside a Vertex model version it uploads, as JSON in the version's
 * `version_description`: for a registered version, its registration (checksum, location, metadata,
 * lineage, baseline); for every upload, the model's signature when the artifact is an ONNX file mlscale
 * could read. Labels cannot hold it (at most 64 values of 63 lowercase characters), and `Model.metadata`
 * is "Immutable" and described by a `metadata_schema_uri` that a custom-container model has none of
 * (model.proto); a version description is free text (⚠ model.proto documents no length limit for it, so
 * a signature longer than `maximumSignatureCharacters` is left out and read from the artifact instead).
 */
export const versionRecordSchema = z.object({
  /** sha256 of the artifact as uploaded (empty for a `gs://` artifact mlscale did not upload). */
  sha256: z.string().default(''),
  sizeBytes: z.number().default(0),
  /** The artifact's `gs://` location (with the model file, when it is one file). */
  uri: z.string().optional(),
  /** A registration's free-form metadata. */
  metadata: z.record(z.string(), z.unknown()).default({}),
  lineage: lineageSchema.default({}),
  baseline: z.array(featureBaselineSchema).optional(),
  /** The model's inputs and outputs, read from its ONNX graph when it was uploaded. */
  signature: modelSignatureSchema.optional(),
});
export type VersionRecord = z.infer<typeof versionRecordSchema>;
export type VersionRecordInput = z.input<typeof versionRecordSchema>;

const recordPrefix = 'mlscale model version: ';

/** The longest signature JSON kept in a version description. */
export const maximumSignatureCharacters = 16_000;

/** The version description that keeps `record` (its signature left out when it is too long). */
export function describeVersion(record: VersionRecordInput): string {
  const { signature, ...rest } = record;
  const kept = signature && JSON.stringify(signature).length <= maximumSignatureCharacters;
  return `${recordPrefix}${JSON.stringify(kept ? { ...rest, signature } : rest)}`;
}

/** The record a version keeps, or `undefined` for a version mlscale did not describe (or a damaged one). */
export function readVersionRecord(
  model: Pick<protos.google.cloud.aiplatform.v1.IModel, 'versionDescription'>,
): VersionRecord | undefined {
  const description = model.versionDescription ?? '';
  if (!description.startsWith(recordPrefix)) return undefined;
  try {
    const parsed = versionRecordSchema.safeParse(JSON.parse(description.slice(recordPrefix.length)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
