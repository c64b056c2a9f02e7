import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { timestamp } from './clock.js';
import type { EmulatorContext } from './context.js';
import { unaryHandlers } from './context.js';
import { isStatusError, rpcStatus, statusError } from './grpc-status.js';
import { pageOf } from './list-pages.js';

/** A `google.protobuf.Any`; the protos name its field `type_url` (the one field they do not camel-case). */
interface AnyMessage {
  type_url: string;
  value: Buffer;
}

/** A `google.longrunning.Operation` as it travels. */
export interface WireOperation {
  name: string;
  done: boolean;
  metadata?: AnyMessage;
  response?: AnyMessage;
  error?: { code: number; message: string };
}

/** What an operation produces when it completes: a message of the method's response type. */
export interface OperationResult {
  type: string;
  message: Record<string, unknown>;
}

export interface StartOperation {
  /** The resource the operation acts on; the operation's name is `{resource}/operations/{id}`. */
  resource: string;
  /** The RPC that started it (`DeployModel`), for the failOperations fault. */
  method: string;
  /** The metadata message type (`google.cloud.aiplatform.v1.DeployModelOperationMetadata`). */
  metadataType: string;
  delayMs: number;
  /** Applies the change and returns the response; what it throws becomes the operation's error. */
  complete: () => OperationResult | Promise<OperationResult>;
}

/** An operation not done yet, and what it does. */
export interface RunningOperation {
  name: string;
  /** The RPC that started it. */
  method: string;
  resource: string;
}

/** Long-running operations that complete after a delay, served through google.longrunning.Operations. */
export interface OperationStore {
  start(options: StartOperation): WireOperation;
  get(name: string): WireOperation | undefined;
  /** Operations on `resource` that are not done yet. */
  running(resource: string): RunningOperation[];
  /** Every operation, oldest first. */
  all(): WireOperation[];
  service(): UntypedServiceImplementation;
}

export function createOperationStore(context: () => EmulatorContext): OperationStore {
  const operations = new Map<string, WireOperation>();
  const started = new Map<string, RunningOperation>();

  function metadata(type: string, created: Date) {
    const generic = { createTime: timestamp(created), updateTime: timestamp(context().clock.now()) };
    return context().protos.packAny(type, { genericMetadata: generic });
  }

  return {
    start(options) {
      const ctx = context();
      const created = ctx.clock.now();
      const operation: WireOperation = {
        name: `${options.resource}/operations/${ctx.nextId()}`,
        done: false,
        metadata: metadata(options.metadataType, created),
      };
      operations.set(operation.name, operation);
      started.set(operation.name, {
        name: operation.name,
        method: options.method,
        resource: options.resource,
      });
      const failure = takeOperationFault(ctx, options.method);
      ctx.scheduler.after(options.delayMs, () => {
        const finish = async () => {
          if (operation.done) return; // cancelled meanwhile
          if (failure) {
            operation.error = rpcStatus('INTERNAL', failure);
          } else {
            try {
              const result = await options.complete();
              operation.response = ctx.protos.packAny(result.type, result.message);
            } catch (error) {
              operation.error = isStatusError(error)
                ? { code: error.code, message: error.details || error.message }
                : rpcStatus('INTERNAL', error instanceof Error ? error.message : String(error));
            }
          }
          operation.metadata = metadata(options.metadataType, created);
          operation.done = true;
        };
        void finish();
      });
      return operation;
    },
    get(name) {
      return operations.get(name);
    },
    running(resource) {
      return [...started.values()].filter(
        (operation) => operation.resource === resource && !operations.get(operation.name)?.done,
      );
    },
    all() {
      return [...operations.values()];
    },
    service() {
      const ctx = context();
      const find = (request: Record<string, unknown>) => {
        const operation = operations.get(String(request.name ?? ''));
        if (!operation) throw statusError('NOT_FOUND', `Operation "${String(request.name)}" not found.`);
        return operation;
      };
      return unaryHandlers(ctx, 'Operations', {
        GetOperation: find,
        WaitOperation: find,
        ListOperations(request) {
          const resource = String(request.name ?? '');
          if (ctx.missingResourceOperations === 'notFound' && !resourceExists(ctx, resource))
            throw statusError('NOT_FOUND', `Resource "${resource}" not found.`);
          const prefix = `${resource}/operations/`;
          const page = pageOf(
            [...operations.values()].filter((operation) => operation.name.startsWith(prefix)),
            request,
          );
          return { operations: page.items, nextPageToken: page.nextPageToken };
        },
        CancelOperation(request) {
          const operation = find(request);
          if (!operation.done) {
            operation.done = true;
            operation.error = rpcStatus('CANCELLED', 'Operation cancelled.');
          }
          return {};
        },
        DeleteOperation(request) {
          find(request);
          operations.delete(String(request.name));
          return {};
        },
      });
    },
  };
}

/** Whether the endpoint, model or custom job `name` exists; other names are taken to. */
function resourceExists(context: EmulatorContext, name: string): boolean {
  if (/\/endpoints\/[^/]+$/.test(name)) return context.state.endpoints.has(name);
  const model = /\/models\/([^/@]+)$/.exec(name);
  if (model) return context.state.models.has(model[1]!);
  if (/\/customJobs\/[^/]+$/.test(name)) return context.state.customJobs.has(name);
  return true;
}

function takeOperationFault(context: EmulatorContext, method: string): string | undefined {
  const fault = context.faults.failOperations;
  if (!fault?.methods.includes(method)) return undefined;
  fault.count -= 1;
  if (fault.count <= 0) delete context.faults.failOperations;
  return fault.message;
}
