import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import {
  inferenceServiceClient,
  modelInfer,
  outputValues,
  rawInferRequest,
  typedInferRequest,
} from './grpc-client.mjs';
import { decodeV2BinaryOutput, inputRows, modelInput, v2BinaryBody, v2JsonBody } from './request-bodies.mjs';

/**
 * Before any load, each server must compute the right thing: the figures of a server that answers
 * wrongly mean nothing. These checks send one request with the bench's own input and compare the answer
 * with onnxruntime in process.
 */

/** Largest allowed difference from onnxruntime in process (issue 3's 1e-5). */
const tolerance = 1e-5;

/**
 * onnxruntime's outputs in this process for `rows` rows of the bench's input, flat.
 *
 * @param {string} modelPath
 * @param {number} rows
 * @returns {Promise<Float32Array>}
 */
export async function referenceOutputs(modelPath, rows) {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(readFileSync(modelPath), { logSeverityLevel: 3 });
  const result = await session.run({
    [modelInput.name]: new ort.Tensor('float32', inputRows(rows), [rows, modelInput.width]),
  });
  await session.release();
  return /** @type {Float32Array} */ (result[modelInput.outputName].data);
}

function assertClose(actual, expected, what) {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: expected ${expected.length} output values, got ${actual.length}`);
  }
  for (let index = 0; index < expected.length; index++) {
    const difference = Math.abs(Number(actual[index]) - expected[index]);
    if (!(difference <= tolerance)) {
      throw new Error(
        `${what}: output ${index} is ${actual[index]}, onnxruntime in process gives ${expected[index]} (tolerance ${tolerance})`,
      );
    }
  }
}

async function post(url, body, headers) {
  const response = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(30_000) });
  const bytes = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200) {
    throw new Error(`POST ${url} answered ${response.status}: ${bytes.toString('utf8').slice(0, 300)}`);
  }
  return { response, bytes };
}

/**
 * The floor server answers a V2 response of the right shape.
 *
 * @param {string} url the infer URL
 */
export async function checkFloorAnswers(url) {
  const { bytes } = await post(url, v2JsonBody(inputRows(1)), { 'Content-Type': 'application/json' });
  const output = JSON.parse(bytes.toString('utf8')).outputs?.[0];
  if (output?.data?.length !== modelInput.outputWidth) throw new Error(`the floor server answered ${bytes}`);
}

/**
 * The Flask app's class equals the argmax of onnxruntime's probabilities (it computes the same MLP).
 *
 * @param {string} url the /predict URL
 * @param {string} body the Flask request body
 * @param {Float32Array} expected onnxruntime's probabilities for that row
 */
export async function checkFlaskAnswers(url, body, expected) {
  const { bytes } = await post(url, body, { 'Content-Type': 'application/json' });
  const predicted = JSON.parse(bytes.toString('utf8')).prediction?.[0];
  const best = expected.indexOf(Math.max(...expected));
  if (predicted !== best)
    throw new Error(`the Flask app predicted ${predicted}; onnxruntime's argmax is ${best}`);
}

/**
 * `mlscale serve` answers V2 JSON (1 row) and V2 binary (`rows` rows) with onnxruntime's values.
 *
 * @param {string} url the infer URL
 * @param {{ one: Float32Array, batch: Float32Array, batchRows: number }} expected
 */
export async function checkMlscaleAnswers(url, expected) {
  const json = await post(url, v2JsonBody(inputRows(1)), { 'Content-Type': 'application/json' });
  const output = JSON.parse(json.bytes.toString('utf8')).outputs?.find(
    (candidate) => candidate.name === modelInput.outputName,
  );
  assertClose(output?.data ?? [], expected.one, 'mlscale serve, V2 JSON');
  const { body, headerLength } = v2BinaryBody(inputRows(expected.batchRows));
  const binary = await post(url, body, {
    'Content-Type': 'application/octet-stream',
    'Inference-Header-Content-Length': String(headerLength),
  });
  const answerHeaderLength = Number(binary.response.headers.get('inference-header-content-length'));
  assertClose(
    decodeV2BinaryOutput(binary.bytes, answerHeaderLength),
    expected.batch,
    'mlscale serve, V2 binary',
  );
}

/**
 * `mlscale serve`'s gRPC port answers ModelInfer with onnxruntime's values: raw contents for 1 row and
 * for `batchRows` rows (as the load sends them), and typed contents for 1 row.
 *
 * @param {string} target host:port
 * @param {{ one: Float32Array, batch: Float32Array, batchRows: number }} expected
 * @param {string} [modelName]
 */
export async function checkMlscaleGrpcAnswers(target, expected, modelName = 'model') {
  const Service = inferenceServiceClient();
  const client = new Service(target, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
  });
  try {
    const ask = async (request, what) => {
      try {
        return outputValues(await modelInfer(client, request));
      } catch (error) {
        throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    const one = inputRows(1);
    assertClose(
      await ask(rawInferRequest(modelName, one), 'gRPC raw'),
      expected.one,
      'mlscale serve, gRPC raw',
    );
    assertClose(
      await ask(typedInferRequest(modelName, one), 'gRPC typed'),
      expected.one,
      'mlscale serve, gRPC typed',
    );
    assertClose(
      await ask(rawInferRequest(modelName, inputRows(expected.batchRows)), 'gRPC raw batch'),
      expected.batch,
      'mlscale serve, gRPC raw batch',
    );
  } finally {
    client.close();
  }
}

/**
 * Rows inferred and onnxruntime calls made so far, from the server's Prometheus text (Triton's names).
 *
 * @param {string} baseUrl
 */
export async function inferenceCounters(baseUrl) {
  const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  const sum = (name) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  return { inferences: sum('nv_inference_count'), executions: sum('nv_inference_exec_count') };
}
