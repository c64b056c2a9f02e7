import { statusError } from './grpc-status.js';
import type { StoredDeployedModel, StoredEndpoint, StoredModel } from './vertex-state.js';

/** What a predictor is asked: one Predict call routed to one deployed model. */
export interface PredictionInput {
  endpoint: StoredEndpoint;
  deployedModel: StoredDeployedModel;
  model: StoredModel;
  /** The request's instances, as JSON. */
  instances: unknown[];
  parameters: unknown;
}

/** Computes predictions, one per instance. What it throws becomes the call's gRPC error. */
export type Predictor = (input: PredictionInput) => Promise<unknown[]> | unknown[];

/**
 * The built-in predictor: a softmax over each instance's numbers (nested arrays are flattened), so a
 * test can check real arithmetic without a model server. Non-numeric instances are INVALID_ARGUMENT,
 * as a serving container would answer 400.
 */
export const softmaxPredictor: Predictor = ({ instances }) =>
  instances.map((instance, index) => {
    const values = flattenNumbers(instance);
    if (!values || values.length === 0) {
      throw statusError(
        'INVALID_ARGUMENT',
        `instances[${index}]: expected a number or a (nested) list of numbers for the default predictor.`,
      );
    }
    const largest = Math.max(...values);
    const exponentials = values.map((value) => Math.exp(value - largest));
    const total = exponentials.reduce((sum, value) => sum + value, 0);
    return exponentials.map((value) => value / total);
  });

function flattenNumbers(value: unknown): number[] | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return [value];
  if (!Array.isArray(value)) return undefined;
  const result: number[] = [];
  for (const item of value) {
    const inner = flattenNumbers(item);
    if (!inner) return undefined;
    result.push(...inner);
  }
  return result;
}

/**
 * A predictor that forwards to a running serving container (an mlscale server, for one), as Vertex
 * does: POST `{"instances", "parameters"}` to its predict route, read `{"predictions"}` back.
 */
export function httpPredictor(predictUrl: string): Predictor {
  return async ({ instances, parameters }) => {
    let response: Response;
    try {
      response = await fetch(predictUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ instances, ...(parameters === undefined ? {} : { parameters }) }),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      throw statusError('UNAVAILABLE', `The serving container did not answer: ${String(error)}`);
    }
    const text = await response.text();
    if (!response.ok) {
      throw statusError(
        response.status === 400 ? 'INVALID_ARGUMENT' : 'INTERNAL',
        `The serving container answered ${response.status}: ${text.slice(0, 500)}`,
      );
    }
    let body: { predictions?: unknown };
    try {
      body = JSON.parse(text) as { predictions?: unknown };
    } catch {
      throw statusError('INTERNAL', 'The serving container answered with invalid JSON.');
    }
    if (!Array.isArray(body.predictions)) {
      throw statusError('INTERNAL', 'The serving container answered without a "predictions" list.');
    }
    return body.predictions;
  };
}
