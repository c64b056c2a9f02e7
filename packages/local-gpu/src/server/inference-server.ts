import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, Server as NetServer } from 'node:net';
import { InferenceError, type InferenceRequest } from '../deployments/inference-types.js';
import type { ModelSignature } from '../onnx/model-signature.js';
import { assertSafeBinding, createTokenCheck } from './access.js';
import { mediaType, readBody, sendError, sendJson, unsupportedMediaType } from './http-io.js';
import {
  checkAnswerType,
  chooseAnswerType,
  formatInvocationAnswer,
  type InvocationAnswerType,
  parseInvocationBody,
} from './invocation-formats.js';
import { answerMalformedRequest, maximumHeaderBytes, maximumUrlBytes } from './malformed-requests.js';
import { createRouteMatcher } from './route-table.js';
import type { ServedModel } from './served-model.js';
import { formatV2Response, parseJson, parseV2Request } from './v2-protocol.js';
import { parseInstances } from './vertex-protocol.js';

export interface InferenceServerOptions {
  model: ServedModel;
  /** Default 127.0.0.1. Any other address requires `token`. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  token?: string | undefined;
  /** Bind a non-loopback address without a token (containers behind a platform's authentication). */
  allowUnauthenticated?: boolean | undefined;
  tls?: { key: string; cert: string } | undefined;
  /** Default 6 MiB. */
  maxBodyBytes?: number | undefined;
  /** Vertex's AIP_PREDICT_ROUTE, served besides the fixed routes. */
  predictRoute?: string | undefined;
  /** Vertex's AIP_HEALTH_ROUTE. */
  healthRoute?: string | undefined;
  /** Told of every answered POST (inference and its errors), for monitoring; health and metrics are not reported. */
  observer?: RequestObserver | undefined;
}

/** What the server reports once per answered POST: no bodies. */
export interface AnsweredRequest {
  /** `POST /v2/models/m/infer`, `POST /invocations`, ... */
  route: string;
  status: number;
  latencyMs: number;
  /** The version that answered, when inference ran. */
  modelVersion?: string;
  /** Rows in the request's first input, when it parsed. */
  batchSize?: number;
}

/** Receives answered requests (a monitoring recorder): called after the response is sent, never throws back. */
export interface RequestObserver {
  recordRequest(record: AnsweredRequest): void;
}

/** Set on a response while it is being answered, so the observer learns its route, version and rows. */
const answerDetails = Symbol('mlscale.answerDetails');
type ObservedResponse = ServerResponse & { [answerDetails]?: AnsweredRequest & { startedAt: number } };

export interface InferenceServer {
  readonly url: string;
  readonly port: number;
  /** HTTP requests being handled now (headers received, response not finished). */
  readonly activeRequests: number;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

const defaultMaxBodyBytes = 6 * 1024 * 1024;
/** What the V2 infer route takes: JSON (no type, or text), or the binary extension (octet-stream, `…+json`). */
const v2MediaTypes = ['application/json', 'application/octet-stream'];
const isV2MediaType = (type: string) =>
  type === '' || type === 'text/plain' || v2MediaTypes.includes(type) || type.endsWith('+json');
const netServerClose = NetServer.prototype.close;
const serverVersion = '0.1.0';
const tritonBinaryType =
  /^application\/vnd\.(?:sagemaker|vertex-ai)-triton\.binary\+json;\s*json-header-size=(\d+)/i;

/**
 * One HTTP(S) server for one model, on one port: the Open Inference Protocol (KServe V2, JSON and binary
 * tensors), the SageMaker container contract and runtime path, Vertex predict, and Prometheus metrics.
 * Health routes never wait on inference and never need the token.
 */
export async function startInferenceServer(options: InferenceServerOptions): Promise<InferenceServer> {
  const { model } = options;
  assertSafeBinding(options.host, options.token, options.allowUnauthenticated);
  const authorized = createTokenCheck(options.token);
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes;
  const matchRoute = createRouteMatcher({
    modelName: model.name,
    predictRoute: options.predictRoute,
    healthRoute: options.healthRoute,
  });
  let active = 0;
  let idle: (() => void) | undefined;
  let closing = false;

  const { observer } = options;
  const handler = (request: IncomingMessage, response: ObservedResponse) => {
    active++;
    // Draining: every answer tells the client to take its next request elsewhere.
    if (closing) response.shouldKeepAlive = false;
    if (observer && request.method === 'POST') {
      const url = request.url ?? '/';
      const query = url.indexOf('?');
      response[answerDetails] = {
        route: `POST ${query < 0 ? url : url.slice(0, query)}`,
        status: 0,
        latencyMs: 0,
        startedAt: performance.now(),
      };
    }
    response.on('close', () => {
      active--;
      const details = response[answerDetails];
      if (details && observer) {
        details.status = response.statusCode;
        details.latencyMs = performance.now() - details.startedAt;
        try {
          observer.recordRequest(details);
        } catch {
          // Monitoring must never break serving.
        }
      }
      if (active === 0) idle?.();
    });
    route(request, response).catch((error: unknown) => sendError(response, error));
  };

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = request.url ?? '/';
    if (url.length > maximumUrlBytes) {
      throw new InferenceError(
        414,
        `the request URL is ${url.length} bytes; at most ${maximumUrlBytes} are served`,
        'uri_too_long',
      );
    }
    const headerBytes = request.rawHeaders.reduce((sum, part) => sum + part.length + 2, 0);
    if (headerBytes > maximumHeaderBytes) {
      throw new InferenceError(
        431,
        `the request headers are ${headerBytes} bytes; at most ${maximumHeaderBytes} are served`,
        'headers_too_large',
      );
    }
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    const matched = matchRoute(request.method ?? 'GET', path);
    if (!matched.open && !authorized(request.headers.authorization)) return unauthorized(response);
    if ('error' in matched) throw matched.error;
    const { version } = matched;
    if (version !== undefined && !model.versions().includes(version)) throw unknownVersion(version);
    switch (matched.name) {
      case 'infer':
        return inferV2(request, response, version);
      case 'serverLive':
        return sendJson(response, 200, '{"live":true}');
      case 'serverReady': {
        const ready = model.ready();
        return sendJson(response, ready ? 200 : 503, ready ? '{"ready":true}' : '{"ready":false}');
      }
      case 'ping':
        // SageMaker: 200 with an empty body once ready.
        response.writeHead(model.ready() ? 200 : 503, ['Content-Length', '0']);
        response.end();
        return;
      case 'invocations':
        return invocations(request, response);
      case 'predict':
        return predictInstances(request, response);
      case 'serverMetadata':
        return sendJson(
          response,
          200,
          JSON.stringify({ name: 'mlscale', version: serverVersion, extensions: ['binary_tensor_data'] }),
        );
      case 'metrics': {
        const text = await model.metrics.text();
        response.writeHead(200, [
          'Content-Type',
          model.metrics.registry.contentType,
          'Content-Length',
          String(Buffer.byteLength(text)),
        ]);
        response.end(text);
        return;
      }
      case 'modelMetadata':
        return metadata(response, version);
      case 'modelReady': {
        const ready = model.ready(version);
        return sendJson(response, ready ? 200 : 503, JSON.stringify({ name: model.name, ready }));
      }
    }
  }

  function metadata(response: ServerResponse, version: string | undefined) {
    const signature = model.signature(version);
    if (!signature) throw unknownVersion(version ?? '');
    sendJson(
      response,
      200,
      JSON.stringify({
        name: model.name,
        versions: model.versions(),
        platform: 'onnx_onnxv1',
        inputs: signature.inputs,
        outputs: signature.outputs,
      }),
    );
  }

  async function inferV2(request: IncomingMessage, response: ServerResponse, version: string | undefined) {
    const type = mediaType(request);
    if (!isV2MediaType(type)) throw unsupportedMediaType(type, v2MediaTypes);
    const body = await readBody(request, maxBodyBytes);
    const headerLength = binaryHeaderLength(request);
    const parsed = parseV2Request(body, headerLength);
    const result = await model.infer(parsed, version);
    noteAnswer(response, parsed, result.modelVersion);
    writeV2(response, parsed, result, 'application/octet-stream');
  }

  /** Records the answering version and rows for the observer. */
  function noteAnswer(response: ObservedResponse, parsed: InferenceRequest, modelVersion: string) {
    const details = response[answerDetails];
    if (!details) return;
    details.modelVersion = modelVersion;
    const rows = parsed.inputs[0]?.shape[0];
    if (rows !== undefined) details.batchSize = rows;
  }

  function writeV2(
    response: ServerResponse,
    parsed: InferenceRequest,
    result: Awaited<ReturnType<ServedModel['infer']>>,
    binaryType: string,
  ) {
    const formatted = formatV2Response(model.name, parsed, result);
    if (formatted.headerLength === undefined) return sendJson(response, 200, formatted.body as string);
    const body = formatted.body as Buffer;
    const contentType = binaryType.includes('json-header-size')
      ? `${binaryType.replace(/json-header-size=\d+/, `json-header-size=${formatted.headerLength}`)}`
      : binaryType;
    response.writeHead(200, [
      'Content-Type',
      contentType,
      'Inference-Header-Content-Length',
      String(formatted.headerLength),
      'Content-Length',
      String(body.length),
    ]);
    response.end(body);
  }

  /**
   * SageMaker's /invocations: Triton's binary type and V2 JSON answered as V2; instances (JSON, a bare
   * array of rows, CSV, JSON Lines, NPY) answered in the type `Accept` asks for.
   */
  async function invocations(request: IncomingMessage, response: ServerResponse) {
    const body = await readBody(request, maxBodyBytes);
    const contentType = String(request.headers['content-type'] ?? '');
    const triton = tritonBinaryType.exec(contentType);
    if (triton || request.headers['inference-header-content-length'] !== undefined) {
      const headerLength = triton ? Number(triton[1]) : binaryHeaderLength(request);
      const parsed = parseV2Request(body, headerLength);
      const result = await model.infer(parsed);
      noteAnswer(response, parsed, result.modelVersion);
      return writeV2(response, parsed, result, triton ? contentType : 'application/octet-stream');
    }
    const signature = servingSignature();
    const answerType = chooseAnswerType(request.headers.accept);
    const invocation = parseInvocationBody(body, mediaType(request), signature);
    if (invocation.kind === 'v2') {
      if (answerType !== 'application/json') {
        throw new InferenceError(
          406,
          `a V2 request is answered in V2 JSON; Accept asks for ${answerType}`,
          'not_acceptable',
        );
      }
      const result = await model.infer(invocation.request);
      noteAnswer(response, invocation.request, result.modelVersion);
      return writeV2(response, invocation.request, result, 'application/octet-stream');
    }
    return answerInstances(response, invocation.requests, signature, answerType);
  }

  async function predictInstances(request: IncomingMessage, response: ServerResponse) {
    const body = await readBody(request, maxBodyBytes);
    const parsed = parseJson(body.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !('instances' in parsed)) {
      throw new InferenceError(400, 'expected {"instances": [...], "parameters"?: {...}}', 'invalid_request');
    }
    const signature = servingSignature();
    return answerInstances(response, parseInstances(parsed, signature), signature, 'application/json');
  }

  function servingSignature(): ModelSignature {
    const signature = model.signature();
    if (!signature) throw new InferenceError(503, 'no model version is serving', 'unavailable', 1);
    return signature;
  }

  async function answerInstances(
    response: ServerResponse,
    requests: InferenceRequest[],
    signature: ModelSignature,
    answerType: InvocationAnswerType,
  ) {
    checkAnswerType(answerType, signature);
    const results = await Promise.all(requests.map((entry) => model.infer(entry)));
    const details = (response as ObservedResponse)[answerDetails];
    if (details && results[0]) {
      details.modelVersion = results[0].modelVersion;
      details.batchSize = requests.length;
    }
    const answer = formatInvocationAnswer(results, signature, answerType);
    response.writeHead(200, [
      'Content-Type',
      answerType,
      'Content-Length',
      String(Buffer.byteLength(answer)),
    ]);
    response.end(answer);
  }

  // Node's parser stops at this size; below it, long URLs and headers get 414 and 431 from `route`.
  const parserOptions = { maxHeaderSize: 4 * maximumHeaderBytes };
  const server: Server = options.tls
    ? createHttpsServer({ ...parserOptions, key: options.tls.key, cert: options.tls.cert }, handler)
    : createHttpServer(parserOptions, handler);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A misbehaving client connection must never take the server down; it gets a status and a reason.
  server.on('clientError', answerMalformedRequest);
  const port = (server.address() as AddressInfo).port;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `${options.tls ? 'https' : 'http'}://${shownHost}:${port}`;

  return {
    url,
    port,
    get activeRequests() {
      return active;
    },
    async close(graceMs = 30_000) {
      closing = true;
      // Stop accepting, but leave open connections be (http.Server#close would drop the idle ones at
      // once, resetting a request a client is sending on one): until in-flight requests end, each is
      // answered with Connection: close.
      const closed = new Promise<void>((resolve) => netServerClose.call(server, () => resolve()));
      if (active > 0) {
        await Promise.race([
          new Promise<void>((resolve) => {
            idle = resolve;
          }),
          new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref()),
        ]);
      }
      server.closeAllConnections();
      // http.Server#close also stops its connection-checking timer (the listener is closed already).
      server.close();
      await closed;
    },
  };
}

function binaryHeaderLength(request: IncomingMessage): number | undefined {
  const header = request.headers['inference-header-content-length'];
  if (header === undefined) return undefined;
  const value = Number(header);
  if (!Number.isInteger(value) || value < 0) {
    throw new InferenceError(
      400,
      `Inference-Header-Content-Length must be a non-negative integer, got ${JSON.stringify(header)}`,
      'invalid_request',
    );
  }
  return value;
}

function unauthorized(response: ServerResponse): void {
  sendJson(response, 401, '{"error":"missing or wrong bearer token: send Authorization: Bearer <token>"}', [
    'WWW-Authenticate',
    'Bearer',
  ]);
}

function notFound(message: string): InferenceError {
  return new InferenceError(404, message, 'not_found');
}

function unknownVersion(version: string): InferenceError {
  return notFound(`unknown model version '${version}'`);
}
