import { isAbsolute, resolve } from 'node:path';
import { type BackendV1, MlscaleError } from '@mlscale/core';
import type { ConfiguredBackend } from '../config/load-config.js';

/** Which package and factory builds each provider. */
const factories: Record<string, { packageName: string; factory: string }> = {
  local: { packageName: '@mlscale/local-gpu', factory: 'localGpu' },
  aws: { packageName: '@mlscale/aws', factory: 'sagemaker' },
  azure: { packageName: '@mlscale/azure', factory: 'azureml' },
  gcp: { packageName: '@mlscale/gcp', factory: 'vertex' },
};

/** Builds the backend a config entry names. Adapters are imported only when used (they carry cloud SDKs). */
export async function resolveBackend(
  backend: ConfiguredBackend,
  directory: string,
  importModule: (specifier: string) => Promise<unknown> = (specifier) => import(specifier),
): Promise<BackendV1> {
  if (backend.provider === 'memory') {
    // In one process only (state is gone when it exits): for in-process tests and trying the CLI out.
    const specifier: string = '@mlscale/core/test';
    const { createInMemoryBackend } = (await import(specifier)) as {
      createInMemoryBackend: (options: Record<string, unknown>) => BackendV1;
    };
    return createInMemoryBackend({ stepsToInService: 1, ...backend.settings });
  }
  if (backend.provider === 'file') {
    const { fileBackend } = await import('./file-backend.js');
    const path =
      typeof backend.settings.path === 'string' ? backend.settings.path : '.mlscale/file-backend.json';
    return fileBackend({ ...backend.settings, path: isAbsolute(path) ? path : resolve(directory, path) });
  }
  const entry = factories[backend.provider];
  if (!entry) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      message: `Unknown backend provider '${backend.provider}'.`,
    });
  }
  let module: Record<string, unknown>;
  try {
    // A variable specifier keeps bundlers and the type checker from pulling the adapter in eagerly.
    module = (await importModule(entry.packageName)) as Record<string, unknown>;
  } catch (error) {
    throw new MlscaleError({
      code: 'Unsupported',
      provider: backend.provider,
      message: `Backend '${backend.name}' needs ${entry.packageName}, which could not be loaded (${error instanceof Error ? error.message.split('\n')[0] : String(error)}). Install it: npm install ${entry.packageName}`,
      cause: error,
    });
  }
  const factory = module[entry.factory];
  if (typeof factory !== 'function') {
    throw new MlscaleError({
      code: 'Unsupported',
      provider: backend.provider,
      message: `Backend '${backend.name}': ${entry.packageName} has no ${entry.factory}() factory in this version; upgrade it.`,
    });
  }
  const settings =
    backend.provider === 'local'
      ? // The local backend keeps its registry, jobs and logs beside the file, not wherever the command runs.
        {
          ...backend.settings,
          root: resolve(
            directory,
            typeof backend.settings.root === 'string' ? backend.settings.root : '.mlscale',
          ),
        }
      : backend.settings;
  return (await factory(settings)) as BackendV1;
}
