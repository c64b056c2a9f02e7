import type { InferenceRequest, InferenceResult } from '../deployments/inference-types.js';
import type { ModelSignature } from '../onnx/model-signature.js';
import type { ServingMetrics } from './serving-metrics.js';

/** What the HTTP server serves: one model (a deployment) with one or more versions. */
export interface ServedModel {
  /** The V2 model name (the deployment's name). */
  readonly name: string;
  /** Version labels serving now, the default first. */
  versions(): string[];
  /** A version's signature (the default version's without `version`); undefined for an unknown version. */
  signature(version?: string): ModelSignature | undefined;
  /** Whether requests are answered now (replicas ready, or scale-from-zero able to start one). */
  ready(version?: string): boolean;
  /** Runs one request on the given version, or where traffic weights send it. */
  infer(request: InferenceRequest, version?: string): Promise<InferenceResult>;
  readonly metrics: ServingMetrics;
}
