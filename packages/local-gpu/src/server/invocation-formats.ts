import {
  badRequest,
  InferenceError,
  type InferenceRequest,
  type InferenceResult,
  type InferenceTensor,
} from '../deployments/inference-types.js';
import type { ModelSignature } from '../onnx/model-signature.js';
import { datatypes } from '../runtime/tensor-datatypes.js';
import { unsupportedMediaType } from './http-io.js';
import { encodeNpy, parseNpy } from './npy-format.js';
import { describeValue, jsonData } from './tensor-codec.js';
import { parseJson, parseV2Request } from './v2-protocol.js';
import { formatPredictions, parseInstances } from './vertex-protocol.js';

/*
 * The content types of SageMaker's /invocations, as its inference toolkit serves them: a request body in
 * JSON, CSV, NPY or JSON Lines (`Content-Type`), an answer in the one `Accept` asks for (Batch Transform
 * relies on `Accept: text/csv`). V2 JSON and Triton's binary type are answered as V2.
 */

/** What /invocations reads, besides V2 JSON and Triton's binary content type. */
export const invocationRequestTypes = [
  'application/json',
  'text/csv',
  'application/x-npy',
  'application/jsonlines',
] as const;
/** What /invocations answers instances in. */
export const invocationAnswerTypes = [
  'application/json',
  'text/csv',
  'application/x-npy',
  'application/jsonlines',
] as const;
export type InvocationAnswerType = (typeof invocationAnswerTypes)[number];

const jsonLinesAliases = new Set(['application/jsonlines', 'application/jsonl', 'application/x-jsonlines']);

/**
 * The answer type `Accept` prefers (q-values honoured, `*` wildcards matched), or a 406 naming what
 * can be answered. No `Accept` means JSON.
 */
export function chooseAnswerType(accept: string | undefined): InvocationAnswerType {
  if (accept === undefined || accept.trim() === '') return 'application/json';
  const ranges = accept
    .split(',')
    .map((part, order) => {
      const [range = '', ...parameters] = part.split(';').map((piece) => piece.trim().toLowerCase());
      const q = parameters.find((parameter) => parameter.startsWith('q='));
      return {
        range: jsonLinesAliases.has(range) ? 'application/jsonlines' : range,
        q: q ? Number(q.slice(2)) : 1,
        order,
      };
    })
    .filter((entry) => entry.range !== '' && entry.q > 0)
    .sort((left, right) => right.q - left.q || left.order - right.order);
  for (const { range } of ranges) {
    if (range === '*/*' || range === 'application/*') return 'application/json';
    if (range === 'text/*') return 'text/csv';
    const match = invocationAnswerTypes.find((type) => type === range);
    if (match) return match;
  }
  throw new InferenceError(
    406,
    `Accept ${JSON.stringify(accept)} asks for nothing /invocations answers; ask for ${invocationAnswerTypes.join(', ')}`,
    'not_acceptable',
  );
}

/** Whether `type` (a request media type) is JSON Lines under any of its names. */
export function isJsonLines(type: string): boolean {
  return jsonLinesAliases.has(type);
}

/** What an /invocations body asks: one V2 request (JSON with "inputs"), or instances to answer. */
export type InvocationRequest =
  | { kind: 'v2'; request: InferenceRequest }
  | { kind: 'instances'; requests: InferenceRequest[] };

/** Reads an /invocations body (not Triton's binary type) by its media type; another type is a 415. */
export function parseInvocationBody(
  body: Buffer,
  type: string,
  signature: ModelSignature,
): InvocationRequest {
  const instances = (values: unknown): InvocationRequest => ({
    kind: 'instances',
    requests: parseInstances(values, signature),
  });
  if (type === 'text/csv') return instances(csvRows(body.toString('utf8')));
  if (isJsonLines(type)) return instances(jsonLines(body.toString('utf8')));
  if (type === 'application/x-npy') return { kind: 'instances', requests: [npyRequest(body, signature)] };
  if (type === '' || type === 'application/json' || type === 'text/plain') {
    const parsed = parseJson(body.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && 'inputs' in parsed) {
      return { kind: 'v2', request: parseV2Request(body) };
    }
    return instances(parsed);
  }
  throw unsupportedMediaType(type, [
    ...invocationRequestTypes,
    'application/vnd.sagemaker-triton.binary+json',
  ]);
}

/** Refuses up front an answer type the model's outputs cannot fill (CSV and NPY carry one output). */
export function checkAnswerType(type: InvocationAnswerType, signature: ModelSignature): void {
  if ((type === 'text/csv' || type === 'application/x-npy') && signature.outputs.length !== 1) {
    throw new InferenceError(
      406,
      `${type} answers carry one output; this model has ${signature.outputs.length} (${signature.outputs.map((output) => output.name).join(', ')}); ask for application/json or application/jsonlines`,
      'not_acceptable',
    );
  }
}

/** The answer body for instance requests, in `type`. */
export function formatInvocationAnswer(
  results: InferenceResult[],
  signature: ModelSignature,
  type: InvocationAnswerType,
): string | Buffer {
  if (type === 'application/json')
    return JSON.stringify({ predictions: formatPredictions(results, signature) });
  if (type === 'application/jsonlines') {
    return formatPredictions(results, signature)
      .map((prediction) => `${JSON.stringify(prediction)}\n`)
      .join('');
  }
  const outputs = results.map((result) => result.outputs[0]!);
  if (type === 'application/x-npy') return encodeNpy(concatenateRows(outputs));
  const lines: string[] = [];
  for (const output of outputs) {
    const values = jsonData(output);
    const rows = output.shape[0] ?? 1;
    const perRow = rows === 0 ? 0 : values.length / rows;
    for (let row = 0; row < rows; row++) lines.push(values.slice(row * perRow, (row + 1) * perRow).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** Several answers' one output as one tensor, stacked along the first dimension. */
function concatenateRows(outputs: InferenceTensor[]): InferenceTensor {
  if (outputs.length === 1) return outputs[0]!;
  const first = outputs[0]!;
  const info = datatypes.get(first.datatype)!;
  const data = info.create(outputs.reduce((sum, output) => sum + output.data.length, 0));
  let offset = 0;
  for (const output of outputs) {
    (data as Float32Array).set(output.data as Float32Array, offset);
    offset += output.data.length;
  }
  const rows = outputs.reduce((sum, output) => sum + (output.shape[0] ?? 1), 0);
  return { ...first, shape: [rows, ...first.shape.slice(1)], data };
}

/** CSV rows of numbers. */
export function csvRows(text: string): unknown[] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line, index) =>
      line.split(',').map((field) => {
        const value = Number(field);
        if (field.trim() === '' || Number.isNaN(value)) {
          throw badRequest(`CSV line ${index + 1}: expected numbers, got ${describeValue(field)}`);
        }
        return value;
      }),
    );
}

/** JSON Lines: one instance per non-empty line. */
function jsonLines(text: string): unknown[] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      try {
        return JSON.parse(line) as unknown;
      } catch (error) {
        throw badRequest(
          `JSON Lines line ${index + 1}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    });
}

/** An .npy array as the one input of a one-input model, converted to the input's datatype. */
function npyRequest(body: Buffer, signature: ModelSignature): InferenceRequest {
  if (signature.inputs.length !== 1) {
    throw new InferenceError(
      415,
      `application/x-npy carries one array; this model has ${signature.inputs.length} inputs; send JSON or V2`,
      'unsupported_media_type',
    );
  }
  const input = signature.inputs[0]!;
  const array = parseNpy(body);
  const info = datatypes.get(input.datatype);
  if (!info) throw badRequest(`input '${input.name}' is ${input.datatype}, which is not served`);
  if (array.datatype === input.datatype) {
    return { inputs: [{ name: input.name, datatype: input.datatype, shape: array.shape, data: array.data }] };
  }
  if (info.bigint || info.datatype === 'BOOL' || !datatypes.get(array.datatype)) {
    throw badRequest(
      `application/x-npy body: dtype of ${array.datatype} cannot be read as input '${input.name}' ${input.datatype}; send ${input.datatype}`,
    );
  }
  const data = info.create(array.data.length);
  for (let index = 0; index < array.data.length; index++) {
    const value = Number(array.data[index]);
    data[index] = value;
    if (info.floating ? !Number.isFinite(data[index] as number) : data[index] !== value) {
      throw badRequest(
        `application/x-npy body: element ${index} (${value}) does not fit input '${input.name}' ${input.datatype}`,
      );
    }
  }
  return { inputs: [{ name: input.name, datatype: input.datatype, shape: array.shape, data }] };
}
