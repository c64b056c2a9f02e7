// Types `providerOptions` of specs for this package's backend (declaration merging into @mlscale/core).
import './provider-options-types.js';

export type { DeploymentAwsOptions, TrainingAwsOptions } from './adapter/provider-options.js';
export { tagKeys } from './adapter/resource-tags.js';
export { sageMakerCapabilities, sagemaker } from './adapter/sagemaker.js';
export type { SageMakerClients, SageMakerSettings } from './adapter/sagemaker-settings.js';
