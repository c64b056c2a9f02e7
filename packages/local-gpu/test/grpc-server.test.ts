import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createMlscale, type MlscaleClient, MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalGpuBackend, localGpu } from '../src/index.js';
import { referenceMlp } from '../src/onnx/index.js';
import { grpcLoaderOptions, grpcProtoPath } from '../src/server/grpc-service.js';
import {
  inProcessReference,
  maxDifference,
  post,
  referenceInput,
  temporaryFolder,
  v2Body,
  writeModel,
} from './helpers.js';

/** A ModelInfer request as the client sends it. */
interface InferRequest {
  model_name: string;
  model_version?: string;
  id?: string;
  inputs: { name: string; datatype: string; shape: number[]; contents?: Record<string, number[]> }[];
  outputs?: { name: string }[];
  raw_input_contents?: Buffer[];
}

/** A ModelInfer response as the client decodes it (int64 shapes as decimal strings). */
interface InferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: { name: string; datatype: string; shape: string[]; contents?: { fp32_contents: number[] } }[];
  raw_output_contents: Buffer[];
}

type Call<Response> = (request: object, metadata?: grpc.Metadata) => Promise<Response>;
type Method = 'ServerLive' | 'ServerReady' | 'ModelReady' | 'ServerMetadata' | 'ModelMetadata' | 'ModelInfer';

/** A promise-returning stub for each method of `inference.GRPCInferenceService`. */
type InferenceClient = Record<Exclude<Method, 'ModelInfer'>, Call<unknown>> & {
  ModelInfer: Call<InferResponse>;
  close(): void;
};

/** A real @grpc/grpc-js client, built from the very proto file the package ships. */
function connect(
  target: string,
  credentials = grpc.credentials.createInsecure(),
  options: grpc.ChannelOptions = {},
): InferenceClient {
  const definition = protoLoader.loadSync(grpcProtoPath(), grpcLoaderOptions);
  const inference = grpc.loadPackageDefinition(definition).inference as grpc.GrpcObject;
  const Service = inference.GRPCInferenceService as grpc.ServiceClientConstructor;
  const stub = new Service(target, credentials, options);
  type Callback = (error: grpc.ServiceError | null, response: unknown) => void;
  type UnaryStub = (request: object, metadata: grpc.Metadata, callback: Callback) => void;
  const call =
    (method: Method): Call<unknown> =>
    (request, metadata = new grpc.Metadata()) =>
      new Promise((resolve, reject) => {
        (stub as unknown as Record<Method, UnaryStub>)[method].call(
          stub,
          request,
          metadata,
          (error, response) => (error ? reject(error) : resolve(response)),
        );
      });
  const methods: Method[] = [
    'ServerLive',
    'ServerReady',
    'ModelReady',
    'ServerMetadata',
    'ModelMetadata',
    'ModelInfer',
  ];
  const stubs = Object.fromEntries(methods.map((method) => [method, call(method)])) as Record<
    Method,
    Call<unknown>
  >;
  return Object.assign(stubs, {
    close: () => stub.close(),
  }) as InferenceClient;
}

/** The failure a call ends with (the test fails when it succeeds). */
async function failureOf(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error('expected the call to fail, and it succeeded');
}

/** A ModelInfer request for the reference MLP, its rows in fp32_contents. */
function typedRequest(input: Float32Array, rows: number, extra: Partial<InferRequest> = {}): InferRequest {
  return {
    model_name: 'digits',
    ...extra,
    inputs: [
      { name: 'input', datatype: 'FP32', shape: [rows, 784], contents: { fp32_contents: Array.from(input) } },
    ],
  };
}

/** The same, its rows as little-endian bytes in raw_input_contents. */
function rawRequest(input: Float32Array, rows: number, extra: Partial<InferRequest> = {}): InferRequest {
  return {
    model_name: 'digits',
    ...extra,
    inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, 784] }],
    raw_input_contents: [Buffer.from(input.buffer, input.byteOffset, input.byteLength)],
  };
}

/** Little-endian FP32 bytes as numbers (copied: a received Buffer need not be 4-byte aligned). */
function floats(bytes: Buffer): Float32Array {
  const copy = new Uint8Array(bytes);
  return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
}

/** The message the HTTP V2 route answers for the same body, to hold gRPC's to it. */
async function httpError(url: string, body: unknown): Promise<string> {
  const response = await post(`${url}/v2/models/digits/infer`, JSON.stringify(body));
  expect(response.status).toBe(400);
  return JSON.parse(response.text).error;
}

describe('the Open Inference Protocol over gRPC, against a real deployment', () => {
  const folder = temporaryFolder();
  let backend: LocalGpuBackend;
  let client: MlscaleClient;
  let inference: InferenceClient;
  let httpUrl: string;
  let grpcUrl: string;
  let reference: Awaited<ReturnType<typeof inProcessReference>>;

  beforeAll(async () => {
    reference = await inProcessReference();
    backend = localGpu({ root: folder.path });
    client = createMlscale({ backend, polling: { minDelayMs: 20, maxDelayMs: 100 } });
    const status = await client.deploy({
      name: 'digits',
      model: { uri: writeModel(folder.path, 'digits.onnx', referenceMlp()) },
      providerOptions: { local: { grpcPort: 0 } },
    });
    httpUrl = status.endpoint!.url;
    grpcUrl = (status.details as { grpc: { url: string } }).grpc.url;
    inference = connect(grpcUrl);
  });

  afterAll(async () => {
    inference?.close();
    await client?.close();
    folder.remove();
  });

  it('reports the gRPC address in the status, on loopback beside the HTTP port', async () => {
    expect(grpcUrl).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(grpcUrl).not.toBe(httpUrl.replace('http://', ''));
    expect((await client.get('digits')).details).toMatchObject({ grpc: { url: grpcUrl } });
  });

  it('refuses a gRPC port in use with Conflict, as for the HTTP port', async () => {
    const occupied = createServer();
    await new Promise<void>((resolve) => occupied.listen(0, '127.0.0.1', resolve));
    const { port } = occupied.address() as { port: number };
    try {
      const failure = await client
        .deploy({
          name: 'taken',
          model: { uri: writeModel(folder.path, 'taken.onnx', referenceMlp()) },
          providerOptions: { local: { grpcPort: port } },
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(MlscaleError.hasCode(failure, 'Conflict')).toBe(true);
      expect(String((failure as Error).message)).toContain('EADDRINUSE');
    } finally {
      occupied.close();
    }
  });

  it('answers ServerLive, ServerReady and ModelReady', async () => {
    expect(await inference.ServerLive({})).toEqual({ live: true });
    expect(await inference.ServerReady({})).toEqual({ ready: true });
    expect(await inference.ModelReady({ name: 'digits' })).toEqual({ ready: true });
    expect(await inference.ModelReady({ name: 'digits', version: '1' })).toEqual({ ready: true });
    const unknown = await failureOf(inference.ModelReady({ name: 'nope' }));
    expect(unknown.code).toBe(grpc.status.NOT_FOUND);
    expect(unknown.details).toBe("unknown model 'nope'");
  });

  it('answers ServerMetadata and ModelMetadata with inputs, outputs and -1 dims', async () => {
    expect(await inference.ServerMetadata({})).toEqual({ name: 'mlscale', version: '0.1.0', extensions: [] });
    const metadata = await inference.ModelMetadata({ name: 'digits' });
    expect(metadata).toEqual({
      name: 'digits',
      versions: ['1'],
      platform: 'onnx_onnxv1',
      // int64 fields arrive as decimal strings (longs: String).
      inputs: [{ name: 'input', datatype: 'FP32', shape: ['-1', '784'] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: ['-1', '10'] }],
    });
    const wrongVersion = await failureOf(inference.ModelMetadata({ name: 'digits', version: '9' }));
    expect(wrongVersion.code).toBe(grpc.status.NOT_FOUND);
    expect(wrongVersion.details).toBe("unknown model version '9'");
  });

  it('infers from typed contents and answers typed contents within 1e-5 of onnxruntime in process', async () => {
    const input = referenceInput(1, 1);
    const response = await inference.ModelInfer(typedRequest(input, 1, { id: 'g-1', model_version: '1' }));
    expect(response).toMatchObject({ model_name: 'digits', model_version: '1', id: 'g-1' });
    expect(response.raw_output_contents).toEqual([]);
    const [output] = response.outputs;
    expect(output).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: ['1', '10'] });
    expect(output!.contents!.fp32_contents).toHaveLength(10);
    expect(maxDifference(output!.contents!.fp32_contents, await reference(input, 1))).toBeLessThan(1e-5);
  });

  it('infers a batch from raw_input_contents and answers raw_output_contents', async () => {
    const input = referenceInput(2, 5);
    const response = await inference.ModelInfer(rawRequest(input, 5));
    expect(response.id).toBeUndefined();
    const [output] = response.outputs;
    expect(output).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: ['5', '10'] });
    expect(output!.contents).toBeUndefined();
    expect(response.raw_output_contents).toHaveLength(1);
    const values = floats(response.raw_output_contents[0]!);
    expect(values).toHaveLength(50);
    expect(maxDifference(values, await reference(input, 5))).toBeLessThan(1e-5);
  });

  it('answers concurrent calls, each with the answer for its own rows', async () => {
    const inputs = Array.from({ length: 12 }, (_, index) => referenceInput(100 + index, 2));
    const responses = await Promise.all(inputs.map((input) => inference.ModelInfer(rawRequest(input, 2))));
    for (const [index, response] of responses.entries()) {
      const expected = await reference(inputs[index]!, 2);
      expect(maxDifference(floats(response.raw_output_contents[0]!), expected)).toBeLessThan(1e-5);
    }
  });

  it('honours requested outputs and refuses an unknown one', async () => {
    const input = referenceInput(3, 1);
    const named = await inference.ModelInfer(
      typedRequest(input, 1, { outputs: [{ name: 'probabilities' }] }),
    );
    expect(named.outputs.map((output) => output.name)).toEqual(['probabilities']);
    const unknown = await failureOf(
      inference.ModelInfer(typedRequest(input, 1, { outputs: [{ name: 'logits' }] })),
    );
    expect(unknown.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(unknown.details).toBe("unknown output 'logits': expected one of 'probabilities'");
  });

  it('answers NOT_FOUND for an unknown model or version', async () => {
    const input = referenceInput(4, 1);
    const model = await failureOf(inference.ModelInfer({ ...typedRequest(input, 1), model_name: 'nope' }));
    expect(model.code).toBe(grpc.status.NOT_FOUND);
    expect(model.details).toBe("unknown model 'nope'");
    const version = await failureOf(inference.ModelInfer(typedRequest(input, 1, { model_version: '7' })));
    expect(version.code).toBe(grpc.status.NOT_FOUND);
  });

  it('answers INVALID_ARGUMENT with the HTTP route’s message for a bad shape or datatype', async () => {
    const values = Array.from(referenceInput(5, 1)).slice(0, 783);
    const badShape = await failureOf(
      inference.ModelInfer({
        model_name: 'digits',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 783], contents: { fp32_contents: values } }],
      }),
    );
    expect(badShape.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(badShape.details).toBe(
      await httpError(httpUrl, {
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 783], data: values }],
      }),
    );
    expect(badShape.details).toContain('expected shape [-1, 784]');

    const wrongType = await failureOf(
      inference.ModelInfer({
        model_name: 'digits',
        inputs: [
          {
            name: 'input',
            datatype: 'FP64',
            shape: [1, 784],
            contents: { fp64_contents: new Array(784).fill(0.5) },
          },
        ],
      }),
    );
    expect(wrongType.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(wrongType.details).toBe("input 'input': expected datatype FP32, got FP64");

    const unsupported = await failureOf(
      inference.ModelInfer({
        model_name: 'digits',
        inputs: [{ name: 'input', datatype: 'FP16', shape: [1, 784] }],
      }),
    );
    expect(unsupported.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(unsupported.details).toBe(
      await httpError(httpUrl, { inputs: [{ name: 'input', datatype: 'FP16', shape: [1, 784], data: [] }] }),
    );

    const fewValues = await failureOf(
      inference.ModelInfer(typedRequest(referenceInput(5, 1).subarray(0, 700), 1)),
    );
    expect(fewValues.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fewValues.details).toBe("input 'input': shape needs 784 values, got 700");

    const wrongField = await failureOf(
      inference.ModelInfer({
        model_name: 'digits',
        inputs: [
          {
            name: 'input',
            datatype: 'FP32',
            shape: [1, 784],
            contents: { fp64_contents: new Array(784).fill(1) },
          },
        ],
      }),
    );
    expect(wrongField.details).toBe(
      "input 'input': FP32 values go in contents.fp32_contents, got contents.fp64_contents",
    );

    const nonFinite = Array.from(referenceInput(6, 1));
    nonFinite[3] = Number.NaN;
    const notANumber = await failureOf(inference.ModelInfer(typedRequest(Float32Array.from(nonFinite), 1)));
    expect(notANumber.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(notANumber.details).toBe("input 'input': expected finite numbers for FP32, got NaN at element 3");
  });

  it('answers INVALID_ARGUMENT when raw sizes lie or raw and typed contents mix', async () => {
    const input = referenceInput(7, 2);
    const short = rawRequest(input, 2);
    short.raw_input_contents = [Buffer.from(input.buffer, 0, input.byteLength - 4)];
    const shortFailure = await failureOf(inference.ModelInfer(short));
    expect(shortFailure.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(shortFailure.details).toBe(
      "input 'input': raw_input_contents[0] holds 6268 bytes, but shape [2, 784] and FP32 need 6272",
    );

    // A shape that claims more rows than the bytes hold is refused before anything of its size exists.
    const claimsMore = rawRequest(input, 2);
    claimsMore.inputs[0]!.shape = [100, 784];
    const longShape = await failureOf(inference.ModelInfer(claimsMore));
    expect(longShape.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(longShape.details).toBe(
      "input 'input': raw_input_contents[0] holds 6272 bytes, but shape [100, 784] and FP32 need 313600",
    );
    claimsMore.inputs[0]!.shape = [1_000_000, 784];
    const hugeShape = await failureOf(inference.ModelInfer(claimsMore));
    expect(hugeShape.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(hugeShape.details).toBe(
      "input 'input': shape [1000000, 784] needs 784000000 values; at most 268435456 are served",
    );

    const extra = rawRequest(input, 2);
    extra.raw_input_contents!.push(Buffer.alloc(8));
    const extraFailure = await failureOf(inference.ModelInfer(extra));
    expect(extraFailure.details).toBe(
      'raw_input_contents has 2 entries for 1 inputs; give one per input, in the order of "inputs"',
    );

    const mixed = rawRequest(input, 2);
    mixed.inputs[0]!.contents = { fp32_contents: [1] };
    const mixedFailure = await failureOf(inference.ModelInfer(mixed));
    expect(mixedFailure.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(mixedFailure.details).toContain('has contents although raw_input_contents is given');

    // The server lives on: a good call after the bad ones is answered.
    const after = await inference.ModelInfer(rawRequest(input, 2));
    expect(maxDifference(floats(after.raw_output_contents[0]!), await reference(input, 2))).toBeLessThan(
      1e-5,
    );
  });

  it('matches the HTTP V2 route on the same rows', async () => {
    const input = referenceInput(8, 3);
    const http = JSON.parse((await post(`${httpUrl}/v2/models/digits/infer`, v2Body(input, 3))).text);
    const viaGrpc = await inference.ModelInfer(typedRequest(input, 3));
    expect(maxDifference(viaGrpc.outputs[0]!.contents!.fp32_contents, http.outputs[0].data)).toBeLessThan(
      1e-6,
    );
  });
});

describe('a gRPC server with a token', () => {
  const folder = temporaryFolder();
  const token = 'grpc-test-token-0123456789';
  let client: MlscaleClient;
  let inference: InferenceClient;

  beforeAll(async () => {
    client = createMlscale({
      backend: localGpu({ root: folder.path }),
      polling: { minDelayMs: 20, maxDelayMs: 100 },
    });
    const status = await client.deploy({
      name: 'digits',
      model: { uri: writeModel(folder.path, 'digits.onnx', referenceMlp()) },
      providerOptions: { local: { grpcPort: 0, token } },
    });
    inference = connect((status.details as { grpc: { url: string } }).grpc.url);
  });

  afterAll(async () => {
    inference?.close();
    await client?.close();
    folder.remove();
  });

  it('keeps health open and wants authorization: Bearer for metadata and inference', async () => {
    expect(await inference.ServerLive({})).toEqual({ live: true });
    expect(await inference.ServerReady({})).toEqual({ ready: true });
    expect(await inference.ModelReady({ name: 'digits' })).toEqual({ ready: true });
    const input = referenceInput(9, 1);
    for (const call of [
      inference.ModelInfer(typedRequest(input, 1)),
      inference.ModelMetadata({ name: 'digits' }),
      inference.ServerMetadata({}),
    ]) {
      const failure = await failureOf(call);
      expect(failure.code).toBe(grpc.status.UNAUTHENTICATED);
    }
    const wrong = new grpc.Metadata();
    wrong.set('authorization', 'Bearer not-the-token-at-all');
    expect((await failureOf(inference.ModelInfer(typedRequest(input, 1), wrong))).code).toBe(
      grpc.status.UNAUTHENTICATED,
    );
    const right = new grpc.Metadata();
    right.set('authorization', `Bearer ${token}`);
    const response = await inference.ModelInfer(typedRequest(input, 1), right);
    expect(response.outputs[0]!.contents!.fp32_contents).toHaveLength(10);
  });
});

const hasOpenssl = existsSync('/usr/bin/openssl');

describe.skipIf(!hasOpenssl)('a gRPC server with the deployment’s TLS key and certificate', () => {
  const folder = temporaryFolder();
  let client: MlscaleClient;
  let inference: InferenceClient;
  let reference: Awaited<ReturnType<typeof inProcessReference>>;

  beforeAll(async () => {
    reference = await inProcessReference();
    const keyPath = join(folder.path, 'key.pem');
    const certPath = join(folder.path, 'cert.pem');
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost'],
        ...['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', keyPath, '-out', certPath],
      ],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(certPath, 'utf8');
    client = createMlscale({
      backend: localGpu({ root: folder.path }),
      polling: { minDelayMs: 20, maxDelayMs: 100 },
    });
    const status = await client.deploy({
      name: 'digits',
      model: { uri: writeModel(folder.path, 'digits.onnx', referenceMlp()) },
      providerOptions: { local: { grpcPort: 0, tls: { key: readFileSync(keyPath, 'utf8'), cert } } },
    });
    const target = (status.details as { grpc: { url: string } }).grpc.url;
    // The certificate names localhost: checking the name, not the IP, keeps Node's TLS from warning.
    inference = connect(target, grpc.credentials.createSsl(Buffer.from(cert)), {
      'grpc.ssl_target_name_override': 'localhost',
    });
  });

  afterAll(async () => {
    inference?.close();
    await client?.close();
    folder.remove();
  });

  it('serves gRPC over TLS, so a token never crosses the network in the clear', async () => {
    expect(await inference.ServerLive({})).toEqual({ live: true });
    const input = referenceInput(10, 2);
    const response = await inference.ModelInfer(rawRequest(input, 2));
    expect(maxDifference(floats(response.raw_output_contents[0]!), await reference(input, 2))).toBeLessThan(
      1e-5,
    );
  });
});
