import type { Answer, CandidateWatch } from './candidate-watch.js';
import type { InferenceRequest, InferenceResult } from './inference-types.js';
import type { ModelVersion } from './model-version.js';

/** How traffic is split now: the stable version, and a candidate taking `weight`% of requests. */
export interface TrafficSplit {
  stable: ModelVersion;
  canary?: ModelVersion | undefined;
  /** Percent of requests the canary takes (0 to 100). */
  weight: number;
  /** What the rollout learns of the canary from the stable version's answers. */
  watch?: CandidateWatch | undefined;
}

/** Sends each request without a version to the stable version or the canary, by the split's weight. */
export interface TrafficRouter {
  route(request: InferenceRequest, split: TrafficSplit): Promise<InferenceResult>;
}

/**
 * A deterministic weighted split: each request adds `weight` credit and the canary takes a request per
 * 100 credit, so 25% sends exactly every fourth request there. The canary gets a copy of the request
 * (its inputs are transferred to a worker). A bad canary never fails a caller and never answers one in
 * another shape:
 * - a request the watch shadows (all of them until the canary has proved its output contract, then a
 *   sample) is answered by both versions, the caller gets the stable answer, and the watch compares;
 * - a failure of the canary is answered by the stable version; the canary's stats count it when it is
 *   server-side, and the watch counts a refusal (4xx) of a request the stable version answers;
 * - once the watch found a breach, the canary gets nothing more while the rollout rolls back.
 */
export function createTrafficRouter(): TrafficRouter {
  let credit = 0;
  return {
    async route(request, split) {
      const { canary, weight, watch } = split;
      if (!canary || weight <= 0 || watch?.breach) return split.stable.infer(request);
      credit += weight;
      if (credit < 100) return split.stable.infer(request);
      credit -= 100;
      if (watch?.shadowNext()) return shadowed(request, split.stable, canary, watch);
      try {
        return await canary.infer(copyRequest(request));
      } catch (error) {
        const answer = await split.stable.infer(request);
        watch?.compare(answer, { ok: false, error });
        return answer;
      }
    },
  };
}

/** Both versions answer; the caller gets the stable answer as soon as it is there. */
async function shadowed(
  request: InferenceRequest,
  stable: ModelVersion,
  canary: ModelVersion,
  watch: CandidateWatch,
): Promise<InferenceResult> {
  const candidate: Promise<Answer> = canary.infer(copyRequest(request)).then(
    (result) => ({ ok: true, result }),
    (error: unknown) => ({ ok: false, error }),
  );
  const answer = await stable.infer(request);
  // Only names, datatypes and shapes are compared, so the answer can go to the caller meanwhile.
  const contract: InferenceResult = {
    modelVersion: answer.modelVersion,
    outputs: answer.outputs.map((output) => ({ ...output, shape: [...output.shape] })),
  };
  void candidate.then((outcome) => watch.compare(contract, outcome));
  return answer;
}

function copyRequest(request: InferenceRequest): InferenceRequest {
  return {
    ...request,
    inputs: request.inputs.map((input) => ({ ...input, data: input.data.slice() })),
  };
}
