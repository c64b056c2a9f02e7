import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { autoscalingHandlers } from './autoscaling-service.js';
import { AwsServiceError } from './aws-service-error.js';
import { cloudWatchHandlers } from './cloudwatch-service.js';
import type { EmulatorContext, JsonObject, RecordedRequest } from './emulator-context.js';
import {
  dumpState,
  type EmulatedService,
  type EmulatorCall,
  type EmulatorInventory,
  inventoryOf,
  type RequestListener,
} from './emulator-inspection.js';
import { type AwsEmulatorOptions, type FaultSpec, fastDelays } from './emulator-options.js';
import { parseEmulatorOptions, parseFault } from './emulator-options-schema.js';
import { applyFaults } from './fault-injection.js';
import { logsHandlers } from './logs-service.js';
import { modelRegistryHandlers } from './model-registry-service.js';
import { builtInPredictor } from './predictors.js';
import { invokeEndpoint } from './runtime-service.js';
import { sageMakerEndpointHandlers } from './sagemaker-service.js';
import { runScalingActivities } from './scaling-activities.js';
import { createScheduler } from './scheduler.js';
import { trainingHandlers } from './training-service.js';

type Handler = (context: EmulatorContext, input: JsonObject) => JsonObject;

/** One service behind the emulator's single port, chosen by the `X-Amz-Target` prefix. */
interface JsonService {
  name: string;
  /** The name `calls()` reports. */
  callName: EmulatedService;
  /** The IAM action prefix, for access-denied answers. */
  actionPrefix: string;
  contentType: string;
  throttlingError: string;
  queryCompatible: boolean;
  handlers: Readonly<Record<string, Handler>>;
}

const jsonServices: Record<string, JsonService> = {
  SageMaker: {
    name: 'sagemaker',
    callName: 'SageMaker',
    actionPrefix: 'sagemaker',
    contentType: 'application/x-amz-json-1.1',
    throttlingError: 'ThrottlingException',
    queryCompatible: false,
    handlers: { ...sageMakerEndpointHandlers, ...trainingHandlers, ...modelRegistryHandlers },
  },
  AnyScaleFrontendService: {
    name: 'autoscaling',
    callName: 'ApplicationAutoScaling',
    actionPrefix: 'application-autoscaling',
    contentType: 'application/x-amz-json-1.1',
    throttlingError: 'ThrottlingException',
    queryCompatible: false,
    handlers: autoscalingHandlers,
  },
  GraniteServiceVersion20100801: {
    name: 'cloudwatch',
    callName: 'CloudWatch',
    actionPrefix: 'cloudwatch',
    contentType: 'application/x-amz-json-1.0',
    throttlingError: 'Throttling',
    queryCompatible: true,
    handlers: cloudWatchHandlers,
  },
  Logs_20140328: {
    name: 'logs',
    callName: 'CloudWatchLogs',
    actionPrefix: 'logs',
    contentType: 'application/x-amz-json-1.1',
    throttlingError: 'ThrottlingException',
    queryCompatible: false,
    handlers: logsHandlers,
  },
};

const invocationPath = /^\/endpoints\/([^/]+)\/invocations$/;

/** The running emulator. */
export interface AwsEmulator {
  /** `http://127.0.0.1:PORT`: give it as `endpoint` to the SDK clients (or to `sagemaker({ endpoint })`). */
  url: string;
  port: number;
  region: string;
  /** Every request received, in order (no headers: credentials and signatures are never kept). */
  requests: RecordedRequest[];
  /** Requests of one operation (`CreateEndpoint`, `InvokeEndpoint`, ...). */
  requestsFor(operation: string): RecordedRequest[];
  /** Injected faults: throttling, errors (access denied, 500s, ...), latency, failing endpoints, spot interruptions. */
  faults: {
    /** Adds a fault (validated; an invalid one throws InvalidSpec naming the field). */
    add(fault: FaultSpec): void;
    /** Removes every fault not yet used. */
    clear(): void;
    /** The faults in force, with what is left of their counts. */
    list(): readonly FaultSpec[];
  };
  /** Called after each successful operation, before the answer is sent; returns an unsubscribe function. */
  onOperation(listener: (request: RecordedRequest) => void): () => void;
  /**
   * Every request received for one of the emulated services since the start (or the last
   * `resetCalls()`), in order of arrival, including those answered with an injected fault, a refusal
   * or a parse error. Kept: the last 10,000.
   */
  calls(): EmulatorCall[];
  /** Forgets the calls seen so far. */
  resetCalls(): void;
  /**
   * Calls `listener` after the emulator has carried out a request (state changed) and before it writes
   * the answer, so a test can abort the client "right after the cloud accepted the call". Returns a
   * function that removes the listener.
   */
  onRequest(listener: RequestListener): () => void;
  /** Names and ids of the endpoints, configs, models, scalable targets, policies and alarms held now. */
  inventory(): EmulatorInventory;
  /**
   * The whole stored state as JSON text, for tests that look for leaked secrets: every container
   * `Environment` (the one place AWS legitimately holds secrets) reads "[container environment]".
   */
  dump(): string;
  /** The state, for assertions in tests (read it; change it only through the API). */
  state: EmulatorContext;
  close(): Promise<void>;
}

/**
 * Starts the AWS emulator: one loopback HTTP server speaking AWS JSON 1.1 for SageMaker, Application
 * Auto Scaling and CloudWatch Logs, AWS JSON 1.0 (query-compatible) for CloudWatch and restJson for
 * SageMaker Runtime's InvokeEndpoint. It ignores SigV4 signatures.
 */
export async function startAwsEmulator(input: AwsEmulatorOptions = {}): Promise<AwsEmulator> {
  const options = parseEmulatorOptions(input);
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const now = () => Date.now();
  const context: EmulatorContext = {
    region,
    accountId,
    now,
    scheduler: createScheduler(now),
    delays: { ...fastDelays, ...definedOnly(options.delays ?? {}) },
    faults: (options.faults ?? []).map((fault) => ({ ...fault })),
    badImages: new Set(options.badImages ?? []),
    predictor: options.predictor ?? builtInPredictor,
    models: new Map(),
    endpointConfigs: new Map(),
    endpoints: new Map(),
    trainingJobs: new Map(),
    modelPackageGroups: new Map(),
    modelPackages: new Map(),
    tags: new Map(),
    metrics: [],
    logGroups: new Map(),
    alarms: new Map(),
    scalableTargets: new Map(),
    scalingPolicies: new Map(),
    requests: [],
    logSequence: 0,
    arn: (service, resource) => `arn:aws:${service}:${region}:${accountId}:${resource}`,
  };
  const listeners = new Set<(request: RecordedRequest) => void>();

  const calls: EmulatorCall[] = [];
  const requestListeners = new Set<RequestListener>();

  function called(service: EmulatedService, operation: string): void {
    calls.push({ service, operation, time: Date.now() });
    if (calls.length > 10_000) calls.splice(0, calls.length - 10_000);
  }

  /** Announces a carried-out request to `onRequest` listeners, waiting for any that return a promise. */
  async function announce(service: EmulatedService, operation: string): Promise<void> {
    for (const listener of [...requestListeners]) {
      try {
        await listener({ service, operation });
      } catch {
        // A listener's failure must not break the emulated service.
      }
    }
  }

  function record(request: RecordedRequest): void {
    context.requests.push(request);
    if (context.requests.length > 10_000) context.requests.splice(0, context.requests.length - 10_000);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const body = await readBody(request);
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const invocation = request.method === 'POST' ? invocationPath.exec(path) : null;
    if (invocation) {
      const endpointName = decodeURIComponent(invocation[1]!);
      const recorded: RecordedRequest = {
        service: 'runtime',
        operation: 'InvokeEndpoint',
        input: {
          EndpointName: endpointName,
          ContentType: request.headers['content-type'] ?? '',
          Body: body.toString('utf8').slice(0, 4096),
        },
        time: new Date(),
      };
      called('SageMakerRuntime', 'InvokeEndpoint');
      try {
        context.scheduler.runDue();
        await applyFaults(context, {
          operation: 'InvokeEndpoint',
          actionPrefix: 'sagemaker',
          input: { EndpointName: endpointName },
          // SageMaker Runtime throttles as every AWS service's common errors say: 400, not 429.
          throttling: { type: 'ThrottlingException', status: 400 },
        });
        const result = await invokeEndpoint(context, endpointName, headerMap(request), body);
        record(recorded);
        notify(recorded);
        await announce('SageMakerRuntime', 'InvokeEndpoint');
        response.writeHead(result.status, { ...result.headers, 'x-amzn-requestid': requestId });
        response.end(result.body);
      } catch (error) {
        const failure = asServiceError(error);
        record({ ...recorded, error: failure.type });
        response.writeHead(failure.status, {
          'content-type': 'application/json',
          'x-amzn-errortype': failure.type,
          'x-amzn-requestid': requestId,
        });
        response.end(
          JSON.stringify({ message: failure.message, Message: failure.message, ...failure.extra }),
        );
      }
      return;
    }

    const target = String(request.headers['x-amz-target'] ?? '');
    const [prefix, operation = ''] = target.split('.');
    const service = prefix ? jsonServices[prefix] : undefined;
    if (request.method !== 'POST' || !service) {
      response.writeHead(404, { 'content-type': 'application/json', 'x-amzn-requestid': requestId });
      response.end(
        JSON.stringify({
          __type: 'UnknownOperationException',
          message: `No operation at ${request.method} ${path} (X-Amz-Target "${target}").`,
        }),
      );
      return;
    }
    called(service.callName, operation);
    let input: JsonObject = {};
    const recorded: RecordedRequest = { service: service.name, operation, input, time: new Date() };
    try {
      if (body.length > 0) {
        const parsed: unknown = JSON.parse(body.toString('utf8'));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new SyntaxError('expected an object');
        input = parsed as JsonObject;
        recorded.input = input;
      }
    } catch {
      send(
        response,
        service,
        requestId,
        new AwsServiceError('SerializationException', 'Could not parse the request body as JSON.'),
      );
      record({ ...recorded, error: 'SerializationException' });
      return;
    }
    const handler = service.handlers[operation];
    try {
      if (!handler)
        throw new AwsServiceError(
          'UnknownOperationException',
          `The emulator does not implement ${prefix}.${operation}.`,
        );
      context.scheduler.runDue();
      await applyFaults(context, {
        operation,
        actionPrefix: service.actionPrefix,
        input,
        throttling: { type: service.throttlingError, status: 400 },
      });
      context.scheduler.runDue();
      runScalingActivities(context);
      const output = handler(context, input);
      record(recorded);
      notify(recorded);
      await announce(service.callName, operation);
      response.writeHead(200, { 'content-type': service.contentType, 'x-amzn-requestid': requestId });
      response.end(JSON.stringify(output));
    } catch (error) {
      const failure = asServiceError(error);
      record({ ...recorded, error: failure.type });
      send(response, service, requestId, failure);
    }
  }

  function notify(request: RecordedRequest): void {
    for (const listener of listeners) {
      try {
        listener(request);
      } catch {
        // A listener's failure must not break the emulated service.
      }
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ __type: 'InternalFailure', message: `Emulator failure: ${String(error)}` }),
        );
      } else {
        response.destroy();
      }
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    region,
    requests: context.requests,
    requestsFor: (operation) =>
      context.requests.filter((request) => request.operation === operation && !request.error),
    faults: {
      add: (fault) => {
        context.faults.push({ ...parseFault(fault) });
      },
      clear: () => {
        context.faults = [];
      },
      list: () => context.faults,
    },
    onOperation(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    calls: () => [...calls],
    resetCalls: () => {
      calls.length = 0;
    },
    onRequest(listener) {
      requestListeners.add(listener);
      return () => {
        requestListeners.delete(listener);
      };
    },
    inventory: () => inventoryOf(context),
    dump: () => dumpState(context),
    state: context,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(
  response: ServerResponse,
  service: JsonService,
  requestId: string,
  error: AwsServiceError,
): void {
  const headers: Record<string, string> = {
    'content-type': service.contentType,
    'x-amzn-requestid': requestId,
  };
  // Query-compatible services (CloudWatch) also name the error the old query protocol's way.
  if (service.queryCompatible)
    headers['x-amzn-query-error'] = `${error.type};${error.status >= 500 ? 'Receiver' : 'Sender'}`;
  response.writeHead(error.status, headers);
  response.end(JSON.stringify({ __type: error.type, message: error.message, ...error.extra }));
}

function asServiceError(error: unknown): AwsServiceError {
  if (error instanceof AwsServiceError) return error;
  return new AwsServiceError(
    'InternalFailure',
    `The emulator failed: ${error instanceof Error ? error.message : String(error)}`,
    500,
  );
}

function headerMap(request: IncomingMessage): Record<string, string | undefined> {
  const result: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(request.headers)) {
    result[key.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return result;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past 8 MiB the body is dropped (the runtime answers its 6 MiB limit); the socket keeps draining.
      if (size <= 8 * 1024 * 1024) chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}
