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
export * from './onnx/index.js';
export { type DeviceRequest, type DeviceSelection, selectDevice } from './runtime/device-selection.js';
export { type InferenceServer, type InferenceServerOptions, startInferenceServer } from './server/index.js';
