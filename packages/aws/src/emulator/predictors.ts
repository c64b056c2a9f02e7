import { MlscaleError } from '@mlscale/core';

/** What the emulator knows about the model behind an invocation. */
export interface InvocationContext {
  endpointName: string;
  variantName: string;
  modelName: string;
  image?: string;
  modelDataUrl?: string;
  environment: Record<string, string>;
  /** The request body, as sent. */
  body: Buffer;
  contentType: string;
  accept?: string;
  customAttributes?: string;
}

/** What the model container answered. A status of 400 or more becomes a 424 ModelError, as on SageMaker. */
export interface InvocationResult {
  statusCode?: number;
  body: Buffer | string;
  contentType?: string;
  customAttributes?: string;
}

/** Answers InvokeEndpoint for the emulator, as the model container would. */
export type Predictor = (context: InvocationContext) => Promise<InvocationResult>;

interface V2Tensor {
  name: string;
  shape: number[];
  datatype?: string;
  data: unknown[];
}

/**
 * The emulator's default model: for each input tensor, the sum and the argmax of every row (the first
 * dimension is the batch). Deterministic and computed from the request, so tests can check the
 * arithmetic. Accepts the V2 JSON body (`{"inputs": [...]}`), `{"instances": [[...], ...]}` and CSV.
 */
export const builtInPredictor: Predictor = async (context) => {
  const text = context.body.toString('utf8');
  if (context.contentType.startsWith('text/csv')) {
    const rows = text
      .trim()
      .split(/\r?\n/)
      .filter((line) => line.length > 0)
      .map((line) => line.split(',').map(Number));
    if (rows.some((row) => row.some((value) => !Number.isFinite(value)))) {
      return { statusCode: 400, body: 'expected numeric CSV rows', contentType: 'text/plain' };
    }
    return { body: rows.map((row) => String(sum(row))).join('\n'), contentType: 'text/csv' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {
      statusCode: 400,
      body: JSON.stringify({ error: 'expected a JSON body' }),
      contentType: 'application/json',
    };
  }
  if (isRecord(parsed) && Array.isArray(parsed.instances)) {
    const rows = parsed.instances.map((row) => flatNumbers(row));
    if (rows.some((row) => row === undefined)) return badRequest('expected numeric instances');
    return json({ predictions: (rows as number[][]).map((row) => ({ sum: sum(row), argmax: argmax(row) })) });
  }
  if (!isRecord(parsed) || !Array.isArray(parsed.inputs) || parsed.inputs.length === 0) {
    return badRequest('expected {"inputs": [tensor, ...]} (the V2 inference protocol)');
  }
  const outputs: V2Tensor[] = [];
  const prefixed = parsed.inputs.length > 1;
  for (const candidate of parsed.inputs) {
    const tensor = asTensor(candidate);
    if (typeof tensor === 'string') return badRequest(tensor);
    const batch = tensor.shape.length === 0 ? 1 : (tensor.shape[0] ?? 1);
    const values = flatNumbers(tensor.data);
    if (!values) return badRequest(`input ${tensor.name}: expected numeric data`);
    const width = batch === 0 ? 0 : values.length / batch;
    const sums: number[] = [];
    const maxima: number[] = [];
    for (let row = 0; row < batch; row++) {
      const slice = values.slice(row * width, (row + 1) * width);
      sums.push(sum(slice));
      maxima.push(argmax(slice));
    }
    const prefix = prefixed ? `${tensor.name}_` : '';
    outputs.push({ name: `${prefix}sum`, datatype: 'FP64', shape: [batch], data: sums });
    outputs.push({ name: `${prefix}argmax`, datatype: 'INT64', shape: [batch], data: maxima });
  }
  const wanted = Array.isArray(parsed.outputs)
    ? new Set(parsed.outputs.map((output) => (isRecord(output) ? output.name : output)))
    : undefined;
  return json({
    model_name: context.modelName,
    model_version: '1',
    ...(typeof parsed.id === 'string' ? { id: parsed.id } : {}),
    outputs: wanted ? outputs.filter((output) => wanted.has(output.name)) : outputs,
  });
};

/**
 * Sends each invocation to a running server that speaks SageMaker's runtime path
 * (`POST {baseUrl}/endpoints/{name}/invocations`), such as the `@mlscale/local-gpu` server. `baseUrl`
 * may depend on the endpoint, to serve each endpoint's own model.
 */
export function forwardingPredictor(
  baseUrl: string | ((context: InvocationContext) => string),
  options: { timeoutMs?: number } = {},
): Predictor {
  if (typeof baseUrl === 'string') checkBaseUrl(baseUrl);
  return async (context) => {
    const base = typeof baseUrl === 'function' ? checkBaseUrl(baseUrl(context)) : baseUrl;
    const url = `${base.replace(/\/+$/, '')}/endpoints/${encodeURIComponent(context.endpointName)}/invocations`;
    const headers: Record<string, string> = { 'content-type': context.contentType };
    if (context.accept) headers.accept = context.accept;
    if (context.customAttributes) headers['x-amzn-sagemaker-custom-attributes'] = context.customAttributes;
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body: context.body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
    });
    const contentType = response.headers.get('content-type');
    return {
      statusCode: response.status,
      body: Buffer.from(await response.arrayBuffer()),
      ...(contentType ? { contentType } : {}),
    };
  };
}

/** The base URL, or an `InvalidSpec` error saying what was expected. */
function checkBaseUrl(url: string): string {
  if (typeof url !== 'string' || !/^https?:\/\/[^/]+/.test(url)) {
    throw new MlscaleError({
      code: 'InvalidSpec',
      message: `forwardingPredictor: expected an http(s) base URL such as http://127.0.0.1:8080, got ${JSON.stringify(url)}.`,
      issues: [{ path: 'baseUrl', message: 'expected an http(s) URL' }],
    });
  }
  return url;
}

function asTensor(candidate: unknown): V2Tensor | string {
  if (!isRecord(candidate)) return 'expected each input to be an object';
  const { name, shape, data } = candidate;
  if (typeof name !== 'string') return 'expected each input to have a name';
  if (!Array.isArray(shape) || shape.some((size) => !Number.isInteger(size) || size < 0))
    return `input ${name}: expected a shape of whole numbers`;
  if (!Array.isArray(data)) return `input ${name}: expected data to be an array`;
  const expected = (shape as number[]).reduce((product, size) => product * size, 1);
  const flat = data.flat(Number.POSITIVE_INFINITY);
  if (flat.length !== expected)
    return `input ${name}: expected ${expected} values for shape [${shape.join(', ')}], got ${flat.length}`;
  return { name, shape: shape as number[], data: flat };
}

function flatNumbers(value: unknown): number[] | undefined {
  const flat = Array.isArray(value) ? value.flat(Number.POSITIVE_INFINITY) : [value];
  const numbers = flat.map((item) => (typeof item === 'boolean' ? Number(item) : item));
  return numbers.every((item) => typeof item === 'number' && Number.isFinite(item))
    ? (numbers as number[])
    : undefined;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function argmax(values: number[]): number {
  let best = -1;
  for (let index = 0; index < values.length; index++) {
    if (best === -1 || values[index]! > values[best]!) best = index;
  }
  return best;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function json(value: unknown): InvocationResult {
  return { body: JSON.stringify(value), contentType: 'application/json' };
}

function badRequest(message: string): InvocationResult {
  return { statusCode: 400, body: JSON.stringify({ error: message }), contentType: 'application/json' };
}
