import type {
  Metadata,
  Server,
  ServerUnaryCall,
  ServiceError,
  sendUnaryData,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { InferenceError } from '../deployments/inference-types.js';
import { assertSafeBinding, createTokenCheck } from './access.js';
import { loadInferenceService } from './grpc-service.js';
import { grpcCodes, grpcFailureOf, httpStatusOf } from './grpc-status.js';
import {
  formatModelInferResponse,
  type ModelInferRequestMessage,
  parseModelInferRequest,
} from './grpc-tensors.js';
import type { RequestObserver } from './inference-server.js';
import type { ServedModel } from './served-model.js';

export interface GrpcInferenceServerOptions {
  model: ServedModel;
  /** Any address but loopback requires `token` (or `allowUnauthenticated`), as on HTTP. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  token?: string | undefined;
  allowUnauthenticated?: boolean | undefined;
  /** PEM key and certificate: the HTTP server's, so a token never crosses the network in the clear. */
  tls?: { key: string; cert: string } | undefined;
  /** Largest request message. Default 6 MiB, the HTTP body limit. */
  maxMessageBytes?: number | undefined;
  /** Told of every answered ModelInfer, with the HTTP status it stands for. */
  observer?: RequestObserver | undefined;
}

export interface GrpcInferenceServer {
  readonly port: number;
  /** `host:port`, the target a gRPC client dials. */
  readonly url: string;
  /** Stops accepting calls, lets in-flight ones finish (up to `graceMs`), then cancels the rest. */
  close(graceMs?: number): Promise<void>;
}

const defaultMaxMessageBytes = 6 * 1024 * 1024;
/** The HTTP server's /v2 name and version. */
const serverName = 'mlscale';
const serverVersion = '0.1.0';
const inferRoute = 'gRPC inference.GRPCInferenceService/ModelInfer';

type UnaryHandler = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;

/**
 * The Open Inference Protocol over gRPC (`inference.GRPCInferenceService`) for one model, on its own
 * port. Inference goes through `model.infer`, the same batcher and replicas as HTTP. Health calls
 * (ServerLive, ServerReady, ModelReady) never need the token; the others want `authorization: Bearer`.
 */
export async function startGrpcInferenceServer(
  options: GrpcInferenceServerOptions,
): Promise<GrpcInferenceServer> {
  const { model, observer } = options;
  assertSafeBinding(options.host, options.token, options.allowUnauthenticated);
  const authorized = createTokenCheck(options.token);
  const grpc = await import('@grpc/grpc-js');
  const service = await loadInferenceService();

  /** Wraps a handler: the token check, and every failure (thrown or rejected) as a status, never a crash. */
  const unary =
    (handler: (request: never) => unknown, open = false): UnaryHandler =>
    (call, callback) => {
      if (!open && !authorized(firstValue(call.metadata, 'authorization'))) {
        callback(
          failure({
            code: grpcCodes.unauthenticated,
            details: 'missing or wrong bearer token: send metadata authorization: Bearer <token>',
          }),
        );
        return;
      }
      Promise.resolve()
        .then(() => handler(call.request as never))
        .then(
          (response) => callback(null, response),
          (error: unknown) => callback(failure(grpcFailureOf(error))),
        );
    };

  const failure = (answer: ReturnType<typeof grpcFailureOf>): Partial<ServiceError> => {
    const metadata = new grpc.Metadata();
    if (answer.retryAfterSeconds !== undefined) metadata.set('retry-after', String(answer.retryAfterSeconds));
    return { code: answer.code, details: answer.details, metadata };
  };

  const checkModel = (name: string | undefined, version: string | undefined) => {
    if (name !== model.name) throw new InferenceError(404, `unknown model '${name ?? ''}'`, 'not_found');
    if (version && !model.versions().includes(version)) {
      throw new InferenceError(404, `unknown model version '${version}'`, 'not_found');
    }
  };

  const infer = async (message: ModelInferRequestMessage) => {
    const startedAt = performance.now();
    let answered: { status: number; modelVersion?: string; batchSize?: number } = { status: 200 };
    try {
      const version = message.model_version || undefined;
      checkModel(message.model_name, version);
      const parsed = parseModelInferRequest(message);
      const rows = parsed.request.inputs[0]?.shape[0];
      if (rows !== undefined) answered.batchSize = rows;
      const result = await model.infer(parsed.request, version);
      answered.modelVersion = result.modelVersion;
      return formatModelInferResponse(model.name, parsed, result);
    } catch (error) {
      answered = { ...answered, status: httpStatusOf(error) };
      throw error;
    } finally {
      try {
        observer?.recordRequest({ route: inferRoute, latencyMs: performance.now() - startedAt, ...answered });
      } catch {
        // Monitoring must never break serving.
      }
    }
  };

  const implementation: UntypedServiceImplementation = {
    ServerLive: unary(() => ({ live: true }), true),
    ServerReady: unary(() => ({ ready: model.ready() }), true),
    ModelReady: unary((request: { name?: string; version?: string }) => {
      checkModel(request.name, request.version);
      return { ready: model.ready(request.version || undefined) };
    }, true),
    ServerMetadata: unary(() => ({ name: serverName, version: serverVersion, extensions: [] })),
    ModelMetadata: unary((request: { name?: string; version?: string }) => {
      checkModel(request.name, request.version);
      const signature = model.signature(request.version || undefined);
      if (!signature) throw new InferenceError(503, 'no model version is serving', 'unavailable', 1);
      return {
        name: model.name,
        versions: model.versions(),
        platform: 'onnx_onnxv1',
        inputs: signature.inputs,
        outputs: signature.outputs,
      };
    }),
    ModelInfer: unary(infer),
  };

  const server: Server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxMessageBytes ?? defaultMaxMessageBytes,
    // Answers are as large as the model's outputs for the rows sent; the client sets its own limit.
    'grpc.max_send_message_length': -1,
  });
  server.addService(service, implementation);
  const credentials = options.tls
    ? grpc.ServerCredentials.createSsl(null, [
        { private_key: Buffer.from(options.tls.key), cert_chain: Buffer.from(options.tls.cert) },
      ])
    : grpc.ServerCredentials.createInsecure();
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${shownHost}:${options.port}`, credentials, (error, bound) =>
      error ? reject(withSystemCode(error)) : resolve(bound),
    );
  });

  let closed: Promise<void> | undefined;
  return {
    port,
    url: `${shownHost}:${port}`,
    close(graceMs = 30_000) {
      closed ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closed;
    },
  };
}

/**
 * grpc-js reports a failed listen only in its message ("listen EADDRINUSE: ..."): the code is put back
 * on the error, so a port in use is a `Conflict` as it is for the HTTP server.
 */
function withSystemCode(error: Error): Error {
  const code = /\b(EADDRINUSE|EADDRNOTAVAIL|EACCES)\b/.exec(error.message)?.[1];
  return code ? Object.assign(error, { code }) : error;
}

function firstValue(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return value === undefined ? undefined : value.toString();
}
