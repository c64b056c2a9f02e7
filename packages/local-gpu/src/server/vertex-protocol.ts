import type { InferenceRequest, InferenceResult, InferenceTensor } from '../deployments/inference-types.js';
import { badRequest } from '../deployments/inference-types.js';
import type { ModelSignature } from '../onnx/model-signature.js';
import { datatypeInfo, decodeJsonData, jsonData } from './tensor-codec.js';

/**
 * Vertex-style `{"instances": [...]}`: each instance is one row. For a one-input model an instance is
 * the row's values (nested as the model's dims); for several inputs, an object of input name → values.
 * Returns the requests to run: one batch for batchable models, one per instance for models whose first
 * dimension is fixed at 1.
 */
export function parseInstances(body: unknown, signature: ModelSignature): InferenceRequest[] {
  const instances = (body as Record<string, unknown> | null)?.instances ?? body;
  if (!Array.isArray(instances) || instances.length === 0) {
    throw badRequest('expected {"instances": [...]} with at least one instance (one row each)');
  }
  if (signature.batchable) return [rowsRequest(instances, signature)];
  if (signature.inputs.every((input) => input.shape[0] === 1)) {
    return instances.map((instance) => rowsRequest([instance], signature));
  }
  throw badRequest(
    'this model has no batch dimension; send it through the V2 route (/v2/models/{name}/infer) with full tensors',
  );
}

function rowsRequest(instances: unknown[], signature: ModelSignature): InferenceRequest {
  const single = signature.inputs.length === 1 ? signature.inputs[0]! : undefined;
  const inputs: InferenceTensor[] = signature.inputs.map((input) => {
    const rowDims = input.shape.slice(1);
    if (rowDims.some((size) => size < 0)) {
      throw badRequest(
        `input '${input.name}' has dynamic inner dimensions; use the V2 route with explicit shapes`,
      );
    }
    const perRow = rowDims.reduce((product, size) => product * size, 1);
    const values = instances.map((instance, index) => {
      // One input: an instance is its values, or (Vertex's named form) an object holding them by name.
      if (single && !isPlainObject(instance)) return instance;
      if (single && !(input.name in (instance as Record<string, unknown>))) {
        throw badRequest(
          `instances[${index}]: expected the values of input '${input.name}', or {"${input.name}": [...]}`,
        );
      }
      if (typeof instance !== 'object' || instance === null || Array.isArray(instance)) {
        throw badRequest(
          `instances[${index}]: expected an object with ${signature.inputs.map((entry) => `"${entry.name}"`).join(', ')}`,
        );
      }
      const value = (instance as Record<string, unknown>)[input.name];
      if (value === undefined) throw badRequest(`instances[${index}]: missing input "${input.name}"`);
      return value;
    });
    if (rowDims.length === 1) {
      values.forEach((value, index) => {
        if (!Array.isArray(value) || value.length !== perRow) {
          throw badRequest(
            `instances[${index}]: expected ${perRow} values for input '${input.name}', got ${Array.isArray(value) ? value.length : typeof value}`,
          );
        }
      });
    }
    const info = datatypeInfo(input.datatype, `input '${input.name}'`);
    const data = decodeJsonData(
      values.map((value) => (Array.isArray(value) ? value : [value])),
      info,
      perRow * instances.length,
      `instances (input '${input.name}', ${perRow} values per instance)`,
      1 + Math.max(1, rowDims.length),
    );
    return { name: input.name, datatype: input.datatype, shape: [instances.length, ...rowDims], data };
  });
  return { inputs };
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{"predictions": [...]}`: per row, the output's values (one output) or an object of them. */
export function formatPredictions(results: InferenceResult[], signature: ModelSignature): unknown[] {
  const predictions: unknown[] = [];
  for (const result of results) {
    const perOutput = result.outputs.map((output) => ({ name: output.name, rows: splitRows(output) }));
    const rows = perOutput[0]?.rows.length ?? 0;
    for (let row = 0; row < rows; row++) {
      if (signature.outputs.length === 1) predictions.push(perOutput[0]!.rows[row]);
      else predictions.push(Object.fromEntries(perOutput.map((output) => [output.name, output.rows[row]])));
    }
  }
  return predictions;
}

function splitRows(output: InferenceTensor): unknown[] {
  const values = jsonData(output);
  const rows = output.shape[0] ?? 1;
  const inner = output.shape.slice(1);
  const perRow = rows === 0 ? 0 : values.length / rows;
  const result: unknown[] = [];
  for (let row = 0; row < rows; row++)
    result.push(nest(values.slice(row * perRow, (row + 1) * perRow), inner));
  return result;
}

/** Flat values nested by `dims` (all but the first); a rank-1 row stays flat. */
function nest(values: unknown[], dims: number[]): unknown {
  if (dims.length <= 1) return dims.length === 0 ? values[0] : values;
  const [first, ...rest] = dims;
  const size = values.length / first!;
  return Array.from({ length: first! }, (_, index) =>
    nest(values.slice(index * size, (index + 1) * size), rest),
  );
}
