// Types `providerOptions` of specs for this package's backend (declaration merging into @mlscale/core).
import './provider-options-types.js';

export type { DeploymentEffect, DeploymentEffectRunner } from './deployments/deployment-effects.js';
export type { LocalDeploymentOperations } from './deployments/deployment-operations.js';
export {
  createDeploymentRuntime,
  type DeploymentEnvironment,
  type DeploymentRuntime,
} from './deployments/deployment-runtime.js';
export {
  type LocalDeploymentOptions,
  localDeploymentOptionsSchema,
} from './deployments/local-deployment-options.js';
export { findModelFile, type RegistryModelResolver } from './deployments/model-loader.js';
export { type GpuReading, type GpuStats, parseNvidiaSmi, readGpuStats } from './gpu/index.js';
export {
  type LocalGpuBackend,
  type LocalGpuSettings,
  localGpu,
  localGpuSettingsSchema,
} from './local-gpu.js';
export {
  type AlertEvent,
  computeFeatureBaseline,
  createLocalMonitoring,
  type LocalMonitoring,
  type LocalMonitoringSettings,
} from './monitoring/index.js';
export * from './onnx/index.js';
export { createLocalModelRegistry, type LocalModelRegistry } from './registry/index.js';
export { type DeviceRequest, type DeviceSelection, selectDevice } from './runtime/device-selection.js';
export { type InferenceServer, type InferenceServerOptions, startInferenceServer } from './server/index.js';
export {
  createLocalTraining,
  type LocalTraining,
  type LocalTrainingSettingsInput,
} from './training/index.js';
