export {
  type InferenceServer,
  type InferenceServerOptions,
  startInferenceServer,
} from './inference-server.js';
export type { ServedModel } from './served-model.js';
export { createServingMetrics, type ServingMetrics } from './serving-metrics.js';
