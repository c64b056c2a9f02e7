/** What a predictor knows about the request it answers. */
export interface ScoringContext {
  /** The online endpoint's name. */
  endpoint: string;
  /** The deployment that serves this request. */
  deployment: string;
  /** The deployment's model asset id, as given in its `properties.model`. */
  model: string | undefined;
  /** The deployment's environment variables. */
  environmentVariables: Record<string, string>;
}

/**
 * Answers one scoring request: takes the request body as the client sent it (JSON-parsed when it is JSON)
 * and returns the response body. Throw a `ScoringError` for a 4xx/5xx answer. Point it at a local mlscale
 * server (`fetch(localUrl + '/v2/models/m/infer', ...)`) to serve a real ONNX model.
 */
export type AzureMlPredictor = (body: unknown, context: ScoringContext) => unknown | Promise<unknown>;

/** A scoring failure with the status code to answer. */
export class ScoringError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

interface V2Tensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

/**
 * The built-in predictor: speaks the Open Inference Protocol (V2) and returns, for each input tensor, the
 * sum of each row (`<input>_row_sum`, FP64, shape `[rows, 1]`). Deterministic and computed from the
 * request, so tests can check real answers without a model.
 */
export const rowSumPredictor: AzureMlPredictor = (body, context) => {
  const request = body as { id?: unknown; inputs?: unknown };
  if (typeof request !== 'object' || request === null || !Array.isArray(request.inputs)) {
    throw new ScoringError(
      400,
      'expected a V2 inference request: { "inputs": [ { name, shape, datatype, data } ] }',
    );
  }
  const outputs = request.inputs.map((input, index) => rowSums(input, index));
  return {
    model_name: modelName(context),
    model_version: modelVersion(context),
    id: typeof request.id === 'string' ? request.id : `${context.deployment}-${Date.now()}`,
    outputs,
  };
};

function rowSums(input: unknown, index: number): V2Tensor {
  const tensor = input as Partial<V2Tensor>;
  if (
    typeof tensor !== 'object' ||
    tensor === null ||
    typeof tensor.name !== 'string' ||
    !Array.isArray(tensor.shape) ||
    !Array.isArray(tensor.data)
  ) {
    throw new ScoringError(400, `inputs[${index}]: expected { name, shape, datatype, data }`);
  }
  const values = tensor.data.flat(Number.POSITIVE_INFINITY).map((value) => Number(value));
  if (values.some((value) => Number.isNaN(value))) {
    throw new ScoringError(400, `inputs[${index}].data: expected numbers`);
  }
  const rows = tensor.shape.length > 1 ? Number(tensor.shape[0]) : 1;
  const width = rows > 0 ? values.length / rows : 0;
  if (!Number.isInteger(width)) {
    throw new ScoringError(
      400,
      `inputs[${index}]: ${values.length} values do not fill shape [${tensor.shape.join(', ')}]`,
    );
  }
  const sums: number[] = [];
  for (let row = 0; row < rows; row++) {
    let sum = 0;
    for (let column = 0; column < width; column++) sum += values[row * width + column] ?? 0;
    sums.push(sum);
  }
  return { name: `${tensor.name}_row_sum`, datatype: 'FP64', shape: [rows, 1], data: sums };
}

/** `azureml:/subscriptions/.../models/mnist/versions/3` → `mnist`. */
function modelName(context: ScoringContext): string {
  return /\/models\/([^/]+)/i.exec(context.model ?? '')?.[1] ?? context.deployment;
}

function modelVersion(context: ScoringContext): string | undefined {
  return /\/versions\/([^/]+)/i.exec(context.model ?? '')?.[1];
}
