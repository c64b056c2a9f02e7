import {
  badRequest,
  type InferenceRequest,
  type InferenceResult,
  type InferenceTensor,
} from '../deployments/inference-types.js';
import { formatShape } from '../deployments/validate-inputs.js';
import type { DatatypeInfo, NumericArray } from '../runtime/tensor-datatypes.js';
import { binaryData, checkShape, datatypeInfo, decodeBinaryData, decodeJsonData } from './tensor-codec.js';

/** `inference.InferTensorContents` as decoded (64-bit integers as strings). */
export interface TensorContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: string[];
  uint_contents?: number[];
  uint64_contents?: string[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Buffer[];
}

type ContentsField = keyof TensorContents;

/** `inference.InferParameter`: one of its oneof members. */
export type InferParameter = Record<string, unknown>;

/** `inference.ModelInferRequest` as decoded. */
export interface ModelInferRequestMessage {
  model_name?: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, InferParameter>;
  inputs?: {
    name?: string;
    datatype?: string;
    shape?: string[];
    parameters?: Record<string, InferParameter>;
    contents?: TensorContents;
  }[];
  outputs?: { name?: string; parameters?: Record<string, InferParameter> }[];
  raw_input_contents?: Buffer[];
}

/** `inference.ModelInferResponse` as it is encoded. */
export interface ModelInferResponseMessage {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: { name: string; datatype: string; shape: number[]; contents?: TensorContents }[];
  raw_output_contents?: Buffer[];
}

/** A parsed ModelInfer request, and whether its inputs came as raw bytes (so its outputs go back so). */
export interface ParsedModelInfer {
  request: InferenceRequest;
  raw: boolean;
}

/** The typed-contents field each datatype's values travel in (the proto's comments say which). */
const contentsFields: Record<string, ContentsField> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
};

/**
 * Turns a ModelInfer message into the server's request, with the HTTP parser's checks and messages:
 * datatype, shape, value count and range, all before anything of the shape's size is allocated. Inputs
 * come either all in `raw_input_contents` (little-endian, one entry per input, in order) or all in
 * `contents`.
 */
export function parseModelInferRequest(message: ModelInferRequestMessage): ParsedModelInfer {
  const rawInputs = message.inputs ?? [];
  if (rawInputs.length === 0) {
    throw badRequest('expected "inputs": a non-empty list of {name, datatype, shape, contents}');
  }
  const rawContents = message.raw_input_contents ?? [];
  const raw = rawContents.length > 0;
  if (raw && rawContents.length !== rawInputs.length) {
    throw badRequest(
      `raw_input_contents has ${rawContents.length} entries for ${rawInputs.length} inputs; give one per input, in the order of "inputs"`,
    );
  }
  const inputs = rawInputs.map((input, position): InferenceTensor => {
    if (typeof input.name !== 'string' || input.name === '') {
      throw badRequest(`inputs[${position}]: expected "name" to be a non-empty string`);
    }
    const where = `input '${input.name}'`;
    const info = datatypeInfo(input.datatype, where);
    const shape = (input.shape ?? []).map(Number);
    const count = checkShape(shape, where);
    if (raw) {
      if (filledField(input.contents)) {
        throw badRequest(
          `${where}: has contents although raw_input_contents is given; send every input one way`,
        );
      }
      const bytes = rawContents[position]!;
      const needed = count * info.bytes;
      if (bytes.length !== needed) {
        throw badRequest(
          `${where}: raw_input_contents[${position}] holds ${bytes.length} bytes, but shape ${formatShape(shape)} and ${info.datatype} need ${needed}`,
        );
      }
      return {
        name: input.name,
        datatype: info.datatype,
        shape,
        data: decodeBinaryData(bytes, info, count, where),
      };
    }
    return {
      name: input.name,
      datatype: info.datatype,
      shape,
      data: decodeContents(input.contents, info, count, where),
    };
  });
  const request: InferenceRequest = { inputs };
  if (message.id) request.id = message.id;
  if (message.outputs && message.outputs.length > 0) {
    request.outputs = message.outputs.map((output, position) => {
      if (typeof output.name !== 'string' || output.name === '') {
        throw badRequest(`outputs[${position}]: expected "name" to be a non-empty string`);
      }
      if (output.parameters && 'class_count' in output.parameters) {
        throw badRequest(
          `outputs[${position}].parameters.class_count: the classification extension is not served; ask for the output itself and take the top classes from it`,
        );
      }
      return { name: output.name, binary: raw };
    });
  }
  return { request, raw };
}

/** Typed contents into a typed array of `count` elements, each value checked as the JSON route does. */
function decodeContents(
  contents: TensorContents | undefined,
  info: DatatypeInfo,
  count: number,
  where: string,
): NumericArray {
  const field = contentsFields[info.datatype]!;
  const values = (contents?.[field] ?? []) as unknown[];
  if (values.length !== count) {
    const other = values.length === 0 ? filledField(contents) : undefined;
    if (other) {
      throw badRequest(`${where}: ${info.datatype} values go in contents.${field}, got contents.${other}`);
    }
    // Checked before allocating, so a large shape with few values costs nothing.
    throw badRequest(`${where}: shape needs ${count} values, got ${values.length}`);
  }
  if (info.bigint) return decodeLongs(values as string[], info, where);
  return decodeJsonData(values, info, count, where, 1);
}

/** INT64/UINT64 contents (decoded as decimal strings) held exactly, refusing what wraps. */
function decodeLongs(values: readonly string[], info: DatatypeInfo, where: string): NumericArray {
  const target = info.create(values.length) as BigInt64Array | BigUint64Array;
  const bits = 64;
  for (let index = 0; index < values.length; index++) {
    const value = BigInt(values[index]!);
    const fits = info.datatype === 'UINT64' ? BigInt.asUintN(bits, value) : BigInt.asIntN(bits, value);
    if (fits !== value) {
      throw badRequest(
        `${where}: expected integers in the range of ${info.datatype}, got ${values[index]} at element ${index}`,
      );
    }
    target[index] = value;
  }
  return target;
}

/** The first contents field that holds values, if any. */
function filledField(contents: TensorContents | undefined): ContentsField | undefined {
  if (!contents) return undefined;
  return (Object.keys(contents) as ContentsField[]).find((field) => (contents[field]?.length ?? 0) > 0);
}

/**
 * The response: the outputs asked for (all when none were), as `raw_output_contents` when the request
 * sent raw inputs, else as typed contents.
 */
export function formatModelInferResponse(
  modelName: string,
  parsed: ParsedModelInfer,
  result: InferenceResult,
): ModelInferResponseMessage {
  const wanted = parsed.request.outputs;
  const outputs = wanted
    ? result.outputs.filter((output) => wanted.some((entry) => entry.name === output.name))
    : result.outputs;
  const response: ModelInferResponseMessage = {
    model_name: modelName,
    model_version: result.modelVersion,
    outputs: outputs.map((output) => ({
      name: output.name,
      datatype: output.datatype,
      shape: output.shape,
      ...(parsed.raw ? {} : { contents: typedContents(output) }),
    })),
  };
  if (parsed.request.id !== undefined) response.id = parsed.request.id;
  if (parsed.raw) {
    response.raw_output_contents = outputs.map((output) => {
      const bytes = binaryData(output);
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    });
  }
  return response;
}

function typedContents(tensor: InferenceTensor): TensorContents {
  const field = contentsFields[tensor.datatype];
  const { data } = tensor;
  if (field === undefined)
    throw new Error(
      `output '${tensor.name}' has datatype ${tensor.datatype}, which gRPC contents cannot carry`,
    );
  if (field === 'bool_contents')
    return { bool_contents: Array.from(data as Uint8Array, (value) => value !== 0) };
  if (field === 'int64_contents' || field === 'uint64_contents') {
    return { [field]: Array.from(data as BigInt64Array, String) };
  }
  return { [field]: Array.from(data as Float32Array) };
}
