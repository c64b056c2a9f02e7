import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TokenCredential } from '@azure/core-auth';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { advance } from './advance.js';
import { ArmError } from './arm-error.js';
import { generateLoopbackCertificate } from './certificate.js';
import { type AzureMlEmulatorSettings, azureMlEmulatorSettings } from './emulator-connection.js';
import type {
  AzureMlEmulatorDelays,
  AzureMlEmulatorStorage,
  EmulatorContext,
  EmulatorReply,
  EmulatorRequest,
} from './emulator-context.js';
import {
  type AzureMlEmulatorInspection,
  createInspection,
  type EmulatorInspectionHooks,
} from './emulator-inspection.js';
import { type AzureMlEmulatorFault, FaultBook, matchesFilter } from './faults.js';
import { handleMonitor } from './monitor-routes.js';
import { operationOf } from './operation-names.js';
import { handleOperationPoll } from './operations.js';
import { type AzureMlPredictor, rowSumPredictor } from './predictor.js';
import { handleScoring } from './scoring-route.js';
import { createState } from './state.js';
import { handleWorkspace } from './workspace-routes.js';

/** Azurite's well-known development account key (public, documented by Microsoft). */
const azuriteAccountKey =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzureMlEmulatorOptions {
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** How long state transitions take; fast by default. */
  delays?: AzureMlEmulatorDelays;
  /** Faults armed from the start; more can be added with `inject`. */
  faults?: AzureMlEmulatorFault[];
  /** Answers scoring requests; default `rowSumPredictor`. */
  predictor?: AzureMlPredictor;
  /** The workspace blob datastore's account (point the adapter's `blobServiceUrl` at azurite). */
  storage?: AzureMlEmulatorStorage;
  /** The region resources report. Default `eastus`. */
  location?: string;
}

/** One request the emulator received, secrets left out. */
export interface RecordedRequest {
  method: string;
  path: string;
  apiVersion: string | undefined;
  body: unknown;
}

/** A running emulator. */
export interface AzureMlEmulator {
  /** `https://127.0.0.1:PORT`. */
  url: string;
  /** The emulator's self-signed certificate (PEM), trusted by `agent`. */
  certificate: string;
  /** An https agent that trusts the emulator's certificate, and only for requests it is given to. */
  agent: Agent;
  /** The pipeline policy that sends the SDK's ARM and scoring requests here; add it `perRetry`. */
  policy: PipelinePolicy;
  /** A stub token credential. */
  credential: TokenCredential;
  /**
   * Settings `azureml()` can take as they are (spread them and add your own). Another process gets the
   * same with `azureMlEmulatorSettings({ url, certificate })`.
   */
  settings: AzureMlEmulatorSettings;
  /** Every request received, in order (no headers, so no tokens). */
  requests: RecordedRequest[];
  /** Arms a fault. */
  inject(fault: AzureMlEmulatorFault): void;
  /** The request log by operation, faults per operation, a listener, and what the emulator holds. */
  inspection: AzureMlEmulatorInspection;
  close(): Promise<void>;
}

const apiVersions: { pattern: RegExp; versions: string[] }[] = [
  { pattern: /\/providers\/Microsoft\.Insights\/metrics$/i, versions: ['2018-01-01'] },
  { pattern: /\/providers\/Microsoft\.Insights\/autoscalesettings/i, versions: ['2015-04-01', '2022-10-01'] },
  { pattern: /\/providers\/Microsoft\.MachineLearningServices\//i, versions: ['2022-10-01'] },
];

const maxBodyBytes = 16 * 1024 * 1024;

/**
 * Starts an Azure Machine Learning control plane on 127.0.0.1 over HTTPS: online endpoints and
 * deployments with real long-running operations, jobs, models, environments, the blob datastore, Azure
 * Monitor metrics and autoscale settings, and the endpoints' scoring URIs.
 */
export async function startAzureMlEmulator(options: AzureMlEmulatorOptions = {}): Promise<AzureMlEmulator> {
  const { certificate, privateKey } = await generateLoopbackCertificate();
  const faults = new FaultBook();
  for (const fault of options.faults ?? []) faults.add(fault);
  const context: EmulatorContext = {
    state: createState(),
    faults,
    predictor: options.predictor ?? rowSumPredictor,
    delays: {
      provisioningMs: options.delays?.provisioningMs ?? 60,
      deletionMs: options.delays?.deletionMs ?? 40,
      jobStepMs: options.delays?.jobStepMs ?? 60,
      ...(options.delays?.pollRetryAfterSeconds === undefined
        ? {}
        : { pollRetryAfterSeconds: options.delays.pollRetryAfterSeconds }),
    },
    storage: {
      accountName: options.storage?.accountName ?? 'devstoreaccount1',
      accountKey: options.storage?.accountKey ?? azuriteAccountKey,
      containerName: options.storage?.containerName ?? 'azureml-blobstore',
    },
    location: options.location ?? 'eastus',
    now: Date.now,
  };
  const requests: RecordedRequest[] = [];
  const inspection = createInspection(context);
  const server = createServer({ key: privateKey, cert: certificate }, (incoming, outgoing) => {
    handle(context, inspection, requests, incoming, outgoing).catch((error) => {
      // The last line of defence: a request never takes the server down.
      if (!outgoing.headersSent) send(outgoing, { status: 500, body: internalError(error) });
      else outgoing.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `https://127.0.0.1:${port}`;
  const agent = new Agent({ ca: certificate, keepAlive: true });
  const settings = azureMlEmulatorSettings({ url, certificate }, agent);
  return {
    url,
    certificate,
    agent,
    policy: settings.additionalPolicies[0]!.policy,
    credential: settings.credential,
    settings,
    requests,
    inject: (fault) => faults.add(fault),
    inspection: inspection.inspection,
    close: async () => {
      agent.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function internalError(error: unknown): unknown {
  return {
    error: {
      code: 'InternalServerError',
      message: `The emulator failed on this request: ${error instanceof Error ? error.message : String(error)}`,
    },
  };
}

function send(outgoing: ServerResponse, reply: EmulatorReply): void {
  const headers: Record<string, string> = { 'x-ms-request-id': crypto.randomUUID(), ...reply.headers };
  if (reply.body === undefined) {
    outgoing.writeHead(reply.status, headers);
    outgoing.end();
    return;
  }
  const text = JSON.stringify(reply.body);
  outgoing.writeHead(reply.status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  outgoing.end(text);
}

async function readBody(incoming: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes)
      throw new ArmError(413, 'RequestEntityTooLarge', 'The request body is too large.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function handle(
  context: EmulatorContext,
  inspection: EmulatorInspectionHooks,
  requests: RecordedRequest[],
  incoming: IncomingMessage,
  outgoing: ServerResponse,
): Promise<void> {
  const url = new URL(incoming.url ?? '/', 'https://127.0.0.1');
  const path = url.pathname.replace(/\/{2,}/g, '/');
  const method = (incoming.method ?? 'GET').toUpperCase();
  const operation = operationOf(method, path);
  const logged = { operation, method, path, status: 0, time: context.now() };
  inspection.log(logged);
  let reply: EmulatorReply;
  try {
    reply = await route(context, inspection, requests, incoming, { url, path, method, operation });
  } catch (error) {
    reply =
      error instanceof ArmError
        ? { status: error.statusCode, body: error.toBody(), headers: error.headers }
        : { status: 500, body: internalError(error) };
  }
  logged.status = reply.status;
  // The emulator has acted; a listener may now stop the client before it hears the answer.
  if (reply.status < 400) inspection.announce({ operation, method, path });
  send(outgoing, reply);
}

async function route(
  context: EmulatorContext,
  inspection: EmulatorInspectionHooks,
  requests: RecordedRequest[],
  incoming: IncomingMessage,
  target: { url: URL; path: string; method: string; operation: string },
): Promise<EmulatorReply> {
  const { url, path, method, operation } = target;
  const raw = await readBody(incoming);
  let body: unknown;
  if (raw.length > 0) {
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new ArmError(400, 'InvalidRequestContent', 'The request body is not valid JSON.');
    }
  }
  const request: EmulatorRequest = { method, path, query: url.searchParams, headers: incoming.headers, body };
  const apiVersion = url.searchParams.get('api-version') ?? undefined;
  requests.push({ method, path, apiVersion, body });
  advance(context);
  const scoring = await handleScoring(context, request);
  if (scoring) return scoring;
  if (!/^Bearer\s+\S+/i.test(String(incoming.headers.authorization ?? ''))) {
    throw new ArmError(
      401,
      'AuthenticationFailed',
      "Authentication failed. The 'Authorization' header is missing.",
    );
  }
  inspection.faults.apply(operation, method, path);
  injectFaults(context, request);
  checkApiVersion(path, apiVersion);
  return (
    handleOperationPoll(context, request.method, path) ??
    handleMonitor(context, request) ??
    handleWorkspace(context, request) ?? {
      status: 404,
      body: {
        error: { code: 'NoRegisteredProviderFound', message: `No route for ${request.method} ${path}.` },
      },
    }
  );
}

function injectFaults(context: EmulatorContext, request: EmulatorRequest): void {
  const applies = (fault: { method?: string; path?: string | RegExp }) =>
    (fault.method === undefined || fault.method.toUpperCase() === request.method) &&
    matchesFilter(fault.path, request.path);
  const throttle = context.faults.take('throttle', applies);
  if (throttle) {
    const seconds = throttle.retryAfterSeconds ?? 1;
    throw new ArmError(429, 'TooManyRequests', 'The request was throttled; retry after the given delay.', {
      'Retry-After': String(seconds),
    });
  }
  if (context.faults.take('serverError', applies)) {
    throw new ArmError(500, 'InternalServerError', 'An internal server error occurred (injected).');
  }
}

function checkApiVersion(path: string, apiVersion: string | undefined): void {
  const rule = apiVersions.find((candidate) => candidate.pattern.test(path));
  if (!rule) return;
  if (!apiVersion) {
    throw new ArmError(
      400,
      'MissingApiVersionParameter',
      'The api-version query parameter (?api-version=) is required for all requests.',
    );
  }
  if (!rule.versions.includes(apiVersion)) {
    throw new ArmError(
      400,
      'InvalidApiVersionParameter',
      `The api-version '${apiVersion}' is invalid. The supported versions are '${rule.versions.join(', ')}'.`,
    );
  }
}
