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
  describeValue,
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
  // A JSON value takes at least one byte: what the JSON could hold bounds a shape before allocation.
  const jsonBytes = headerLength ?? body.length;
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
    const parameters = optionalObject(input.parameters, `${where}: "parameters"`);
    const binarySize = parameters?.binary_data_size;
    // Binary data is checked against its byte count before anything is allocated.
    const count = checkShape(input.shape, where, binarySize === undefined ? jsonBytes : undefined);
    const shape = input.shape as number[];
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
      data: decodeJsonData(input.data, info, count, where, Math.max(1, shape.length)),
    };
  });
  if (binary && binaryOffset !== binary.length) {
    throw badRequest(
      `binary request: inputs declare ${binaryOffset} bytes of tensor data, but ${binary.length} follow the JSON header`,
    );
  }
  const request: InferenceRequest = { inputs };
  if (object.id !== undefined) {
    if (typeof object.id !== 'string') {
      throw badRequest(`expected "id" to be a string, got ${describeValue(object.id)}`);
    }
    request.id = object.id;
  }
  const parameters = optionalObject(object.parameters, '"parameters"');
  const binaryOutputs = parameters?.binary_data_output;
  if (binaryOutputs !== undefined && typeof binaryOutputs !== 'boolean') {
    throw badRequest(
      `expected parameters.binary_data_output to be a boolean, got ${describeValue(binaryOutputs)}`,
    );
  }
  if (binaryOutputs === true) request.binaryOutputs = true;
  if (object.outputs !== undefined) {
    if (!Array.isArray(object.outputs)) throw badRequest('expected "outputs" to be an array of {name}');
    request.outputs = object.outputs.map((raw, position): RequestedOutput => {
      const output = raw as Record<string, unknown> | null;
      if (typeof output !== 'object' || output === null || typeof output.name !== 'string')
        throw badRequest(`outputs[${position}]: expected {"name": string}`);
      const outputParameters = optionalObject(output.parameters, `outputs[${position}].parameters`);
      if (outputParameters?.class_count !== undefined) {
        throw badRequest(
          `outputs[${position}].parameters.class_count: the classification extension is not served; ask for the output itself and take the top classes from it`,
        );
      }
      const binaryFlag = outputParameters?.binary_data;
      if (binaryFlag !== undefined && typeof binaryFlag !== 'boolean') {
        throw badRequest(
          `outputs[${position}].parameters.binary_data: expected a boolean, got ${describeValue(binaryFlag)}`,
        );
      }
      return {
        name: output.name,
        binary: binaryFlag === undefined ? request.binaryOutputs === true : binaryFlag,
      };
    });
  }
  return request;
}

/** An optional JSON object member: undefined when absent, a 400 naming `what` when not an object. */
function optionalObject(value: unknown, what: string): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(`expected ${what} to be an object, got ${describeValue(value)}`);
  }
  return value as Record<string, unknown>;
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
