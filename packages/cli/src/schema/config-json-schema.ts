import { deploymentSpecSchema, trainingJobSpecSchema } from '@mlscale/core';
import { z } from 'zod';
import { configFileSchema, resourceExtrasShape } from '../config/config-schema.js';

type JsonSchema = Record<string, unknown> & { properties?: Record<string, unknown>; required?: string[] };

/** Where the schema ships, for `# yaml-language-server: $schema=...` or `"$schema"` in JSON. */
export const configSchemaPath = 'node_modules/@mlscale/cli/schema/mlscale.schema.json';

/**
 * The JSON Schema of mlscale.yaml / mlscale.json, generated from the same zod schemas the CLI validates
 * with (core's deployment and training job specs, the file's outline), so editors complete and check
 * what the CLI accepts. Refinements zod cannot express (weights adding to 100, ...) are checked by the CLI.
 */
export function buildConfigJsonSchema(): JsonSchema {
  const asInput = <Schema extends z.ZodType>(schema: Schema) =>
    z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  const extras = asInput(z.object(resourceExtrasShape));
  const withExtras = (schema: JsonSchema): JsonSchema => {
    const { $schema: _schema, ...rest } = schema;
    return { ...rest, properties: { ...extras.properties, ...schema.properties } };
  };
  const deployment = withExtras(asInput(deploymentSpecSchema));
  const trainingJob = withExtras(asInput(trainingJobSpecSchema));
  // An environment's override of one resource: any subset of its fields, at every depth (it is merged).
  const partial = (schema: unknown): JsonSchema => {
    if (Array.isArray(schema)) return schema.map(partial) as unknown as JsonSchema;
    if (typeof schema !== 'object' || schema === null) return schema as JsonSchema;
    const result: JsonSchema = {};
    for (const [key, value] of Object.entries(schema)) if (key !== 'required') result[key] = partial(value);
    return result;
  };
  const outline = asInput(configFileSchema);
  const properties = { ...outline.properties };
  // The CLI checks `provider` itself (with a better message); editors get the public choices.
  const backendEntry = (properties.backends as { additionalProperties?: JsonSchema }).additionalProperties;
  if (backendEntry?.properties) {
    backendEntry.properties.provider = {
      type: 'string',
      enum: ['local', 'aws', 'azure', 'gcp'],
      description: 'Which factory builds the backend; default: the entry name.',
    };
  }
  properties.deployments = {
    type: 'array',
    items: { $ref: '#/$defs/deployment' },
    description: 'Deployments: core deployment specs plus `backend` and `dependsOn`.',
  };
  properties.trainingJobs = {
    type: 'array',
    items: { $ref: '#/$defs/trainingJob' },
    description: 'Training jobs: core training job specs plus `backend` and `dependsOn`.',
  };
  const environments = properties.environments as JsonSchema & { additionalProperties?: JsonSchema };
  if (environments.additionalProperties?.properties) {
    environments.additionalProperties.properties.deployments = {
      type: 'object',
      additionalProperties: { $ref: '#/$defs/deploymentOverride' },
    };
    environments.additionalProperties.properties.trainingJobs = {
      type: 'object',
      additionalProperties: { $ref: '#/$defs/trainingJobOverride' },
    };
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'mlscale config (mlscale.yaml / mlscale.json)',
    ...outline,
    properties,
    $defs: {
      deployment,
      trainingJob,
      deploymentOverride: partial(deployment),
      trainingJobOverride: partial(trainingJob),
    },
  };
}
