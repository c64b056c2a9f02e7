import { z } from 'zod';

/**
 * A resource name every backend accepts: a DNS label of 3–32 characters (Azure ML's endpoint limit is
 * the tightest), lowercase letters, digits and hyphens, starting with a letter and not ending with a
 * hyphen.
 */
export const resourceNameSchema = z
  .string()
  .min(3, 'expected at least 3 characters')
  .max(32, 'expected at most 32 characters (Azure ML endpoint names are limited to 32)')
  .regex(
    /^[a-z][a-z0-9-]*[a-z0-9]$/,
    'expected a DNS label: lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit',
  );
export type ResourceName = z.infer<typeof resourceNameSchema>;

/** Tags (AWS), tags (Azure) and labels (GCP): the common subset of their rules. */
export const tagsSchema = z
  .record(
    z
      .string()
      .min(1)
      .max(63, 'expected a tag key of at most 63 characters (GCP label limit)')
      .regex(/^[a-z][a-z0-9_:-]*$/, 'expected a tag key of lowercase letters, digits, "_", "-" or ":"'),
    z.string().max(63, 'expected a tag value of at most 63 characters (GCP label limit)'),
  )
  .refine((tags) => Object.keys(tags).length <= 50, 'expected at most 50 tags');
export type Tags = z.infer<typeof tagsSchema>;

/** Environment variables given to a serving or training process. */
export const environmentSchema = z.record(
  z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*)'),
  z.string(),
);

/**
 * Cloud-specific extras. Each adapter validates its own entry; only what three backends share becomes a
 * top-level field.
 */
export const providerOptionsSchema = z
  .object({
    aws: z.record(z.string(), z.unknown()).optional(),
    azure: z.record(z.string(), z.unknown()).optional(),
    gcp: z.record(z.string(), z.unknown()).optional(),
    local: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type ProviderOptions = z.infer<typeof providerOptionsSchema>;

/**
 * The deployment options each backend package types (declaration merging): once `@mlscale/aws` is
 * imported, `providerOptions.aws` of a deployment is typed as that package validates it, as the Vercel
 * AI SDK types its providers' options. A package adds itself with
 * `declare module '@mlscale/core' { interface DeploymentProviderOptions { aws?: ... } }`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in each backend package.
export interface DeploymentProviderOptions {}
/** The training job options each backend package types, as `DeploymentProviderOptions`. */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in each backend package.
export interface TrainingProviderOptions {}

/** `providerOptions` as a user writes it: typed where a backend package typed it, open otherwise. */
export type TypedProviderOptions<Typed> = {
  [Provider in keyof ProviderOptions]?: Provider extends keyof Typed
    ? Typed[Provider]
    : Record<string, unknown>;
};

/** A whole number of seconds, at least `minimum`. */
export const secondsSchema = (minimum = 0) => z.number().int('expected whole seconds').min(minimum);
