export { azureMlConformanceCloud } from './conformance-cloud.js';
export {
  type AzureMlEmulatorAddress,
  type AzureMlEmulatorSettings,
  azureMlEmulatorSettings,
  emulatorWorkspace,
} from './emulator-connection.js';
export {
  type AzureMlEmulatorDelays,
  type AzureMlEmulatorStorage,
  realisticAzureMlDelays,
} from './emulator-context.js';
export {
  type AzureMlEmulatorInspection,
  containerEnvironmentPlaceholder,
  endpointAssetTag,
  type LoggedOperation,
  type OperationListener,
} from './emulator-inspection.js';
export type { AzureMlEmulatorFault } from './faults.js';
export type { OperationFault, OperationFaultOptions } from './operation-faults.js';
export { isMutatingOperation, operationOf } from './operation-names.js';
export { type AzureMlPredictor, rowSumPredictor, type ScoringContext, ScoringError } from './predictor.js';
export { createEmulatorRedirectPolicy, emulatorRedirectPolicyName } from './redirect-policy.js';
export {
  type AzureMlEmulator,
  type AzureMlEmulatorOptions,
  type RecordedRequest,
  startAzureMlEmulator,
} from './start-emulator.js';
export { createStubCredential } from './stub-credential.js';
export { type V2ServerPredictorOptions, v2ServerPredictor } from './v2-server-predictor.js';
