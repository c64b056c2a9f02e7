// Types `providerOptions` of specs for this package's backend (declaration merging into @mlscale/core).
import './provider-options-types.js';

export type { AzureClients } from './adapter/azure-clients.js';
export { type AzureMlBackend, azureml } from './adapter/azureml.js';
export { type AzureDeploymentOptions, azureDeploymentOptionsSchema } from './adapter/deployment-options.js';
export {
  type AzureMlSettingsInput,
  azureMlSettingsSchema,
  type ResolvedAzureMlSettings,
} from './adapter/settings.js';
export { azureTrainingOptionsSchema } from './adapter/training-operations.js';
