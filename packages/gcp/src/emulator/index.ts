export { vertexConformanceCloud } from './conformance-cloud.js';
export type { RecordedRequest, RequestListener } from './context.js';
export { type VertexEmulatorAddress, vertexEmulatorSettings } from './emulator-connection.js';
export {
  containerEnvironmentPlaceholder,
  type DeploymentInventory,
  type VertexEmulatorInspection,
} from './emulator-inspection.js';
export type { InjectedFault } from './fault-injection.js';
export type { MetricSample } from './metric-store.js';
export { httpPredictor, type PredictionInput, type Predictor, softmaxPredictor } from './predictor.js';
export {
  type EmulatorDelays,
  type EmulatorDelaysInput,
  type EmulatorFaults,
  type EmulatorFaultsInput,
  realisticVertexDelays,
} from './settings.js';
export {
  startVertexEmulator,
  type VertexEmulator,
  type VertexEmulatorOptions,
} from './start-vertex-emulator.js';
export type { StoredObject } from './storage-server.js';
export type {
  JobRun,
  JobRunner,
  StoredCustomJob,
  StoredDeployedModel,
  StoredEndpoint,
  StoredModel,
  VertexState,
} from './vertex-state.js';
