import { type BackendV1, noCapabilitiesV1 } from '@mlscale/core';
import { createAdapterContext } from './adapter-context.js';
import { type AzureClients, lazyClients } from './azure-clients.js';
import { createDeploymentOperations } from './deployment-operations.js';
import { createModelOperations } from './model-operations.js';
import { createMonitoringOperations } from './monitoring-operations.js';
import { type AzureMlSettingsInput, resolveSettings } from './settings.js';
import { provider } from './to-mlscale-error.js';
import { createTrainingOperations } from './training-operations.js';

/** The Azure Machine Learning backend, with its SDK clients for callers who need more. */
export interface AzureMlBackend extends BackendV1 {
  /** The official SDK clients this backend uses (created on first call). */
  clients(): Promise<AzureClients>;
}

/**
 * The Azure Machine Learning backend: managed online endpoints and deployments, Azure Monitor metrics and
 * autoscale, command jobs and the model registry, over the official Azure SDK clients (loaded on first
 * use). Ids not given come from `AZURE_SUBSCRIPTION_ID`, `AZURE_RESOURCE_GROUP` and
 * `AZUREML_WORKSPACE_NAME`; the credential defaults to `DefaultAzureCredential`.
 */
export function azureml(input: AzureMlSettingsInput = {}): AzureMlBackend {
  const settings = resolveSettings(input);
  const clients = lazyClients(settings);
  const context = createAdapterContext(settings, clients);
  return {
    specificationVersion: 'v1',
    provider,
    capabilities: {
      ...noCapabilitiesV1,
      autoscaling: true,
      spot: true,
      distributed: true,
      gpu: true,
      trafficSplit: true,
      privateNetworking: true,
      training: true,
      modelRegistry: true,
      monitoring: true,
    },
    deployments: createDeploymentOperations(context),
    training: createTrainingOperations(context),
    monitoring: createMonitoringOperations(context),
    models: createModelOperations(context),
    clients,
    async close() {
      // The SDK clients hold no sockets of their own beyond Node's global agent; nothing to release.
    },
  };
}
