import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { modelInput } from './request-bodies.mjs';

/**
 * The Open Inference Protocol over gRPC, from the client side: the proto file `mlscale serve` ships
 * (packages/local-gpu/protos/grpc_predict_v2.proto), loaded with the server's proto-loader options.
 */

/** The server's options (packages/local-gpu/src/server/grpc-service.ts): proto field names, int64 as strings. */
export const grpcLoaderOptions = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  arrays: true,
  oneofs: true,
};

/** The KServe proto inside the @mlscale/local-gpu package. */
export function grpcProtoPath() {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@mlscale/local-gpu/package.json')), 'protos', 'grpc_predict_v2.proto');
}

let service;

/** `inference.GRPCInferenceService`'s client constructor, loaded once per process. */
export function inferenceServiceClient() {
  if (!service) {
    const definition = protoLoader.loadSync(grpcProtoPath(), grpcLoaderOptions);
    const inference = /** @type {grpc.GrpcObject} */ (grpc.loadPackageDefinition(definition).inference);
    service = /** @type {grpc.ServiceClientConstructor} */ (inference.GRPCInferenceService);
  }
  return service;
}

/**
 * A ModelInfer request with the rows in `data` (flat, row-major) as little-endian FP32 bytes in
 * `raw_input_contents`.
 *
 * @param {string} modelName
 * @param {Float32Array} data
 */
export function rawInferRequest(modelName, data) {
  const rows = data.length / modelInput.width;
  return {
    model_name: modelName,
    inputs: [{ name: modelInput.name, datatype: 'FP32', shape: [rows, modelInput.width] }],
    raw_input_contents: [Buffer.from(data.buffer, data.byteOffset, data.byteLength)],
  };
}

/**
 * The same rows in typed contents (`fp32_contents`).
 *
 * @param {string} modelName
 * @param {Float32Array} data
 */
export function typedInferRequest(modelName, data) {
  const rows = data.length / modelInput.width;
  return {
    model_name: modelName,
    inputs: [
      {
        name: modelInput.name,
        datatype: 'FP32',
        shape: [rows, modelInput.width],
        contents: { fp32_contents: Array.from(data) },
      },
    ],
  };
}

/**
 * The model output's values from a decoded ModelInfer response: raw contents (copied, as a received
 * Buffer need not be 4-byte aligned) or typed contents.
 *
 * @param {{ outputs?: { name: string, contents?: { fp32_contents?: number[] } }[],
 *   raw_output_contents?: Buffer[] }} response
 * @returns {Float32Array}
 */
export function outputValues(response) {
  const outputs = response.outputs ?? [];
  const index = outputs.findIndex((output) => output.name === modelInput.outputName);
  if (index < 0) throw new Error(`the gRPC response has no output '${modelInput.outputName}'`);
  const raw = response.raw_output_contents ?? [];
  if (raw.length > 0) {
    const bytes = raw[index];
    if (!bytes) throw new Error(`the gRPC response has no raw contents for output ${index}`);
    return new Float32Array(new Uint8Array(bytes).buffer);
  }
  return Float32Array.from(outputs[index]?.contents?.fp32_contents ?? []);
}

/**
 * One unary ModelInfer call with a decoded answer (for the answer checks, not for load).
 *
 * @param {grpc.Client} client a client from inferenceServiceClient()
 * @param {object} request
 * @param {number} [timeoutMs]
 */
export function modelInfer(client, request, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    /** @type {any} */ (client).ModelInfer(
      request,
      { deadline: Date.now() + timeoutMs },
      (error, response) => (error ? reject(error) : resolve(response)),
    );
  });
}
