export { AwsServiceError } from './aws-service-error.js';
export { awsConformanceCloud } from './conformance-cloud.js';
export type { RecordedRequest } from './emulator-context.js';
export type {
  EmulatedService,
  EmulatorCall,
  EmulatorInventory,
  RequestListener,
} from './emulator-inspection.js';
export {
  type AwsEmulatorOptions,
  type EmulatorDelays,
  type FaultSpec,
  fastDelays,
  realisticDelays,
} from './emulator-options.js';
export {
  builtInPredictor,
  forwardingPredictor,
  type InvocationContext,
  type InvocationResult,
  type Predictor,
} from './predictors.js';
export { type AwsEmulator, startAwsEmulator } from './start-aws-emulator.js';
