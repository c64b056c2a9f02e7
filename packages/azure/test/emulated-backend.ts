import { createMlscale, type MlscaleClient, type MlscaleSettings } from '@mlscale/core';
import {
  type AzureMlEmulator,
  type AzureMlEmulatorOptions,
  startAzureMlEmulator,
} from '../src/emulator/index.js';
import { type AzureMlSettingsInput, azureml } from '../src/index.js';

/** An emulator and a client over `azureml()` pointed at it, as the per-concept test files use them. */
export interface EmulatedBackend {
  emulator: AzureMlEmulator;
  client: MlscaleClient;
  /** Registers a new version of a model whose artifact is already in the datastore; its number. */
  registerVersion(name: string): Promise<number>;
  /** The emulator's requests since `start` (an index into `emulator.requests`), without operation polls. */
  requestsFrom(start: number): AzureMlEmulator['requests'];
  close(): Promise<void>;
}

export async function startEmulatedBackend(
  options: {
    emulator?: AzureMlEmulatorOptions;
    settings?: AzureMlSettingsInput;
    client?: Omit<MlscaleSettings, 'backend'>;
  } = {},
): Promise<EmulatedBackend> {
  const emulator = await startAzureMlEmulator(options.emulator);
  const client = createMlscale({
    backend: azureml({ ...emulator.settings, ...options.settings }),
    polling: { minDelayMs: 10, maxDelayMs: 100 },
    retry: { baseDelayMs: 10, maxDelayMs: 100 },
    ...options.client,
  });
  return {
    emulator,
    client,
    async registerVersion(name) {
      const version = await client.models.register({
        name,
        path: `azureml://datastores/workspaceblobstore/paths/${name}/model.onnx`,
      });
      return version.version;
    },
    requestsFrom: (start) => emulator.requests.slice(start).filter((item) => !/mfeOperation/.test(item.path)),
    close: () => emulator.close(),
  };
}

/** A recorded path from the workspace on: `/onlineEndpoints/x/deployments/y`. */
export function workspaceRoute(path: string): string {
  return path.replace(/^.*\/workspaces\/[^/]+/, '');
}
