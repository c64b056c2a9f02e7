export type { DeploymentAwsOptions, TrainingAwsOptions } from './adapter/provider-options.js';
export { tagKeys } from './adapter/resource-tags.js';
export { sageMakerCapabilities, sagemaker } from './adapter/sagemaker.js';
export type { SageMakerClients, SageMakerSettings } from './adapter/sagemaker-settings.js';
