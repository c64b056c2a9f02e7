import { resolve } from 'node:path';
import { parseSpec } from '@mlscale/core';
import { z } from 'zod';

/** Settings of the local training backend. */
export const localTrainingSettingsSchema = z
  .object({
    /** Where jobs live (`<root>/jobs/<name>/`). Default `.mlscale` under the working directory. */
    root: z.string().min(1, 'expected a directory path').optional(),
    /** Provider id reported in statuses and errors. Default `local`. */
    provider: z.string().min(1).default('local'),
    /** Seconds between SIGTERM and SIGKILL when a job is stopped (SageMaker waits 120). */
    stopGraceSeconds: z.number().min(0).max(3600).default(120),
    /** Seconds a simulated spot reclaim waits before capacity returns, unless the hook says otherwise. */
    spotCapacityDelaySeconds: z.number().min(0).max(86_400).default(1),
    /** Jobs without `maxRuntimeSeconds` are stopped after this long (SageMaker's default is one day). */
    defaultMaxRuntimeSeconds: z.number().int().min(1).default(86_400),
    /** How often a log reader that follows a job looks for new lines, in ms. */
    followIntervalMs: z.number().int().min(10).max(10_000).default(200),
  })
  .strict();
export type LocalTrainingSettingsInput = z.input<typeof localTrainingSettingsSchema>;
export type LocalTrainingSettings = z.infer<typeof localTrainingSettingsSchema> & { root: string };

/** Validates settings and resolves the root to an absolute path. */
export function parseLocalTrainingSettings(input: unknown): LocalTrainingSettings {
  const parsed = parseSpec(localTrainingSettingsSchema, input ?? {}, 'local training settings');
  return { ...parsed, root: resolve(parsed.root ?? '.mlscale') };
}

/** What a job may set under `providerOptions.local`. */
export const localJobOptionsSchema = z
  .object({
    /** The directory the processes start in. Default: the working directory of this program. */
    workingDirectory: z.string().min(1).optional(),
    /** Overrides the backend's `stopGraceSeconds` for this job. */
    stopGraceSeconds: z.number().min(0).max(3600).optional(),
  })
  .strict();
export type LocalJobOptions = z.infer<typeof localJobOptionsSchema>;
