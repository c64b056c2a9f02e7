import type { MlscaleEvent } from '@mlscale/core';
import { type BackendPool, createBackendPool } from '../backends/backend-pool.js';
import { loadConfig, type MlscaleConfig } from '../config/load-config.js';
import type { CommandContext } from './command-context.js';

/** A loaded config and clients over its backends. */
export interface OpenProject {
  config: MlscaleConfig;
  pool: BackendPool;
  close(): Promise<void>;
}

/** Loads the config the flags name and prepares (lazily) its backends. */
export async function openProject(
  values: { file?: string | undefined; env?: string | undefined },
  context: CommandContext,
  onEvent?: (event: MlscaleEvent) => void,
): Promise<OpenProject> {
  const environment = values.env ?? context.env.MLSCALE_ENV;
  const config = await loadConfig({
    directory: context.cwd,
    ...(values.file ? { file: values.file } : {}),
    ...(environment ? { environment } : {}),
    variables: context.env,
  });
  const pool = createBackendPool({
    config,
    ...(context.resolveBackend ? { resolver: context.resolveBackend } : {}),
    ...(context.polling ? { polling: context.polling } : {}),
    ...(onEvent ? { onEvent } : {}),
    ...(context.env.MLSCALE_ACTOR ? { actor: context.env.MLSCALE_ACTOR } : {}),
  });
  return { config, pool, close: () => pool.close() };
}
