import type { ServerUnaryCall, sendUnaryData, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { EmulatorClock, Scheduler } from './clock.js';
import type { FaultQueue } from './fault-injection.js';
import { isStatusError, statusError } from './grpc-status.js';
import type { LogStore } from './log-store.js';
import type { MetricStore } from './metric-store.js';
import type { OperationStore } from './operation-store.js';
import type { Predictor } from './predictor.js';
import type { LoadedProtos } from './protos.js';
import type { EmulatorDelays, EmulatorFaults } from './settings.js';
import type { JobRunner, VertexState } from './vertex-state.js';

/** One request the emulator received, decoded, for tests that check what the adapter sent. */
export interface RecordedRequest {
  /** `EndpointService.DeployModel`, `JobService.CreateCustomJob`, ... */
  method: string;
  request: Record<string, unknown>;
  time: Date;
}

/**
 * Called once the emulator has carried out a request (its state changed, an operation started) and
 * before it answers: a test that aborts its client here acts out a process dying right after the cloud
 * accepted a call. Only requests that succeed are announced.
 */
export type RequestListener = (method: string) => void;

/** An answer a test holds back (`inspection.holdAnswer`): the next call of `method` waits for `gate`. */
export interface HeldAnswer {
  method: string;
  /** Called once the call was carried out, with its answer held. */
  reached: () => void;
  gate: Promise<void>;
}

/** What every service handler shares. */
export interface EmulatorContext {
  project: string | undefined;
  protos: LoadedProtos;
  state: VertexState;
  operations: OperationStore;
  metrics: MetricStore;
  logs: LogStore;
  scheduler: Scheduler;
  /** The control plane's clock (resource and operation times); metrics and logs keep the machine's. */
  clock: EmulatorClock;
  delays: EmulatorDelays;
  faults: EmulatorFaults;
  predictor: Predictor;
  jobRunner: JobRunner;
  requests: RecordedRequest[];
  /** The RPC method name of every request (`DeployModel`, `GetOperation`, ...), faults included. */
  methodLog: string[];
  listeners: Set<RequestListener>;
  /** Faults injected per method by tests (`injectFault`). */
  injectedFaults: FaultQueue;
  /** Answers to hold back, oldest first. */
  heldAnswers: HeldAnswer[];
  /** How ListOperations answers for a resource that does not exist (yet, or any more). */
  missingResourceOperations: 'listed' | 'notFound';
  /** Next numeric id, as Vertex uses for endpoints, models, jobs and deployed models. */
  nextId(): string;
}

type Handler = (request: Record<string, unknown>) => unknown | Promise<unknown>;

/**
 * Wraps plain `request → response` handlers as gRPC unary handlers: records the request, answers an
 * injected fault instead of handling it, tells the listeners once it is handled, and turns anything
 * thrown into a gRPC status, so no request crashes the server.
 */
export function unaryHandlers(
  context: EmulatorContext,
  service: string,
  handlers: Record<string, Handler>,
): UntypedServiceImplementation {
  const implementation: UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(handlers)) {
    implementation[method] = (
      call: ServerUnaryCall<Record<string, unknown>, unknown>,
      callback: sendUnaryData<unknown>,
    ) => {
      const name = `${service}.${method}`;
      context.requests.push({ method: name, request: call.request, time: new Date() });
      context.methodLog.push(method);
      const fault =
        context.injectedFaults.take(method, call.request) ?? takeCallFault(context.faults, method);
      if (fault) {
        callback(fault);
        return;
      }
      Promise.resolve()
        .then(() => handler(call.request))
        .then(
          async (response) => {
            for (const listener of [...context.listeners]) {
              try {
                listener(method);
              } catch {
                // A listener's failure is the test's, not the request's.
              }
            }
            const held = context.heldAnswers.findIndex((entry) => entry.method === method);
            if (held < 0) {
              callback(null, response);
              return;
            }
            const [hold] = context.heldAnswers.splice(held, 1);
            // The answer as it was when the call was carried out, whatever happens while it is held.
            const answer = structuredClone(response);
            hold!.reached();
            await hold!.gate;
            callback(null, answer);
          },
          (error: unknown) => {
            if (isStatusError(error)) callback(error);
            else callback(statusError('INTERNAL', error instanceof Error ? error.message : String(error)));
          },
        );
    };
  }
  return implementation;
}

function takeCallFault(faults: EmulatorFaults, method: string) {
  for (const [key, status] of [
    ['resourceExhausted', 'RESOURCE_EXHAUSTED'],
    ['unavailable', 'UNAVAILABLE'],
  ] as const) {
    const fault = faults[key];
    if (!fault || (fault.methods && !fault.methods.includes(method))) continue;
    fault.calls -= 1;
    if (fault.calls <= 0) delete faults[key];
    return statusError(
      status,
      status === 'RESOURCE_EXHAUSTED'
        ? `Quota exceeded for aiplatform.googleapis.com/${method} requests per minute (injected by the Vertex emulator).`
        : 'The service is currently unavailable (injected by the Vertex emulator).',
    );
  }
  return undefined;
}

/** The string value of a request field, or INVALID_ARGUMENT naming it. */
export function requiredString(request: Record<string, unknown>, field: string): string {
  const value = request[field];
  if (typeof value !== 'string' || value === '') {
    throw statusError('INVALID_ARGUMENT', `Field "${field}" is required.`);
  }
  return value;
}

/** The location prefix `projects/P/locations/L` of a parent, checked. */
export function checkedParent(context: EmulatorContext, parent: string): string {
  const match = /^projects\/([^/]+)\/locations\/([^/]+)$/.exec(parent);
  if (!match) {
    throw statusError(
      'INVALID_ARGUMENT',
      `Expected a parent "projects/{project}/locations/{location}", got "${parent}".`,
    );
  }
  if (context.project && match[1] !== context.project) {
    throw statusError('PERMISSION_DENIED', `Permission denied on resource project ${match[1]}.`);
  }
  return parent;
}
