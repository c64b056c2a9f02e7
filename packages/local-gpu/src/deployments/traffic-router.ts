import type { InferenceRequest, InferenceResult } from './inference-types.js';
import type { ModelVersion } from './model-version.js';

/** How traffic is split now: the stable version, and a candidate taking `weight`% of requests. */
export interface TrafficSplit {
  stable: ModelVersion;
  canary?: ModelVersion | undefined;
  /** Percent of requests the canary takes (0 to 100). */
  weight: number;
}

/** Sends each request without a version to the stable version or the canary, by the split's weight. */
export interface TrafficRouter {
  route(request: InferenceRequest, split: TrafficSplit): Promise<InferenceResult>;
}

/**
 * A deterministic weighted split: each request adds `weight` credit and the canary takes a request per
 * 100 credit, so 25% sends exactly every fourth request there. The canary gets a copy of the request (its
 * inputs are transferred to a worker), and a failure there is answered by the stable version, so a bad
 * canary never fails a caller; it is still counted against the canary, which is what the rollout judges.
 */
export function createTrafficRouter(): TrafficRouter {
  let credit = 0;
  return {
    async route(request, split) {
      const { canary, weight } = split;
      if (canary && weight > 0) {
        credit += weight;
        if (credit >= 100) {
          credit -= 100;
          try {
            return await canary.infer(copyRequest(request));
          } catch {
            return split.stable.infer(request);
          }
        }
      }
      return split.stable.infer(request);
    },
  };
}

function copyRequest(request: InferenceRequest): InferenceRequest {
  return {
    ...request,
    inputs: request.inputs.map((input) => ({ ...input, data: input.data.slice() })),
  };
}
