import { type AzureMlPredictor, ScoringError } from './predictor.js';

/** Options for `v2ServerPredictor`. */
export interface V2ServerPredictorOptions {
  /** The model name in the server's route; default the deployment's model asset name. */
  modelName?: string;
  /** Per-request timeout. Default 30 s. */
  timeoutMs?: number;
}

/**
 * A predictor that forwards each scoring request to an Open Inference Protocol (V2) server, such as a
 * local mlscale server (`@mlscale/local-gpu`) serving a real ONNX model: `POST {baseUrl}/v2/models/{model}/infer`,
 * the route the adapter points Azure's scoring route at. The server's status and body pass through.
 */
export function v2ServerPredictor(baseUrl: string, options: V2ServerPredictorOptions = {}): AzureMlPredictor {
  const base = baseUrl.replace(/\/+$/, '');
  return async (body, context) => {
    const model =
      options.modelName ?? /\/models\/([^/]+)/i.exec(context.model ?? '')?.[1] ?? context.deployment;
    let response: Response;
    try {
      response = await fetch(`${base}/v2/models/${encodeURIComponent(model)}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new ScoringError(
        502,
        `The model server at ${base} did not answer: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const text = await response.text();
    if (!response.ok) throw new ScoringError(response.status, text.slice(0, 1000));
    try {
      return JSON.parse(text);
    } catch {
      throw new ScoringError(502, `The model server at ${base} answered with a body that is not JSON.`);
    }
  };
}
