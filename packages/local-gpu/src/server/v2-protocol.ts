import {
  badRequest,
  type InferenceRequest,
  type InferenceResult,
  type InferenceTensor,
  type RequestedOutput,
} from '../deployments/inference-types.js';
import {
  binaryData,
  checkShape,
  datatypeInfo,
  decodeBinaryData,
  decodeJsonData,
  jsonData,
} from './tensor-codec.js';

/** Parses JSON text, answering 400 with the parser's complaint. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(
      `invalid JSON: ${error instanceof Error ? error.message : String(error)}; expected a JSON object`,
    );
  }
}

/**
 * Parses a V2 inference request. With `headerLength` the body is the binary tensor extension's: a JSON
 * header of that many bytes, then each binary input's bytes in order, all of them accounted for.
 */
export function parseV2Request(body: Buffer, headerLength?: number): InferenceRequest {
  let header: unknown;
  let binary: Buffer | undefined;
  if (headerLength === undefined) {
    header = parseJson(body.toString('utf8'));
  } else {
    if (!Number.isInteger(headerLength) || headerLength < 0 || headerLength > body.length) {
      throw badRequest(
        `binary request: the JSON header length ${headerLength} does not fit a body of ${body.length} bytes`,
      );
    }
    header = parseJson(body.subarray(0, headerLength).toString('utf8'));
    binary = body.subarray(headerLength);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw badRequest('expected a JSON object with "inputs"');
  }
  const object = header as Record<string, unknown>;
  const rawInputs = object.inputs;
  if (!Array.isArray(rawInputs) || rawInputs.length === 0) {
    throw badRequest('expected "inputs": a non-empty array of {name, shape, datatype, data}');
  }
  let binaryOffset = 0;
  const inputs: InferenceTensor[] = rawInputs.map((raw, position) => {
    if (typeof raw !== 'object' || raw === null) throw badRequest(`inputs[${position}]: expected an object`);
    const input = raw as Record<string, unknown>;
    if (typeof input.name !== 'string' || input.name === '') {
      throw badRequest(`inputs[${position}]: expected "name" to be a non-empty string`);
    }
    const where = `input '${input.name}'`;
    const info = datatypeInfo(input.datatype, where);
    const count = checkShape(input.shape, where);
    const shape = input.shape as number[];
    const binarySize = (input.parameters as Record<string, unknown> | undefined)?.binary_data_size;
    if (binarySize !== undefined) {
      if (!binary)
        throw badRequest(`${where}: binary_data_size given, but the request is not a binary request`);
      if (typeof binarySize !== 'number' || !Number.isInteger(binarySize) || binarySize < 0) {
        throw badRequest(`${where}: expected binary_data_size to be a non-negative integer`);
      }
      if (binaryOffset + binarySize > binary.length) {
        throw badRequest(
          `${where}: binary_data_size ${binarySize} runs past the end of the body (${binary.length - binaryOffset} bytes left)`,
        );
      }
      const bytes = binary.subarray(binaryOffset, binaryOffset + binarySize);
      binaryOffset += binarySize;
      return {
        name: input.name,
        datatype: info.datatype,
        shape,
        data: decodeBinaryData(bytes, info, count, where),
      };
    }
    if (input.data === undefined)
      throw badRequest(`${where}: expected "data" (or parameters.binary_data_size)`);
    return {
      name: input.name,
      datatype: info.datatype,
      shape,
      data: decodeJsonData(input.data, info, count, where),
    };
  });
  if (binary && binaryOffset !== binary.length) {
    throw badRequest(
      `binary request: inputs declare ${binaryOffset} bytes of tensor data, but ${binary.length} follow the JSON header`,
    );
  }
  const request: InferenceRequest = { inputs };
  if (typeof object.id === 'string') request.id = object.id;
  const parameters = object.parameters as Record<string, unknown> | undefined;
  if (parameters?.binary_data_output === true) request.binaryOutputs = true;
  if (object.outputs !== undefined) {
    if (!Array.isArray(object.outputs)) throw badRequest('expected "outputs" to be an array of {name}');
    request.outputs = object.outputs.map((raw, position): RequestedOutput => {
      const output = raw as Record<string, unknown> | null;
      if (typeof output?.name !== 'string')
        throw badRequest(`outputs[${position}]: expected {"name": string}`);
      const binaryFlag = (output.parameters as Record<string, unknown> | undefined)?.binary_data;
      return {
        name: output.name,
        binary: binaryFlag === undefined ? request.binaryOutputs === true : binaryFlag === true,
      };
    });
  }
  return request;
}

/** A V2 response body: JSON, or with binary outputs the JSON header and the bytes after it. */
export interface V2ResponseBody {
  body: string | Buffer;
  /** The JSON header's length when the body is binary. */
  headerLength?: number;
}

export function formatV2Response(
  modelName: string,
  request: InferenceRequest,
  result: InferenceResult,
): V2ResponseBody {
  const wanted = request.outputs;
  const binaryParts: Uint8Array[] = [];
  const outputs: Record<string, unknown>[] = [];
  for (const output of result.outputs) {
    let binary = request.binaryOutputs === true;
    if (wanted) {
      const entry = wanted.find((candidate) => candidate.name === output.name);
      if (!entry) continue;
      binary = entry.binary;
    }
    if (binary) {
      const bytes = binaryData(output);
      binaryParts.push(bytes);
      outputs.push({
        name: output.name,
        datatype: output.datatype,
        shape: output.shape,
        parameters: { binary_data_size: bytes.length },
      });
    } else {
      outputs.push({
        name: output.name,
        datatype: output.datatype,
        shape: output.shape,
        data: jsonData(output),
      });
    }
  }
  const header = JSON.stringify({
    model_name: modelName,
    model_version: result.modelVersion,
    ...(request.id === undefined ? {} : { id: request.id }),
    outputs,
  });
  if (binaryParts.length === 0) return { body: header };
  const headerBytes = Buffer.from(header);
  return { body: Buffer.concat([headerBytes, ...binaryParts]), headerLength: headerBytes.length };
}
