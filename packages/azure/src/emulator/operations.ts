import {
  armOrigin,
  type EmulatorContext,
  type EmulatorReply,
  machineLearningApiVersion,
} from './emulator-context.js';
import { newOperationId, type OperationOutcome } from './state.js';

function operationUrl(context: EmulatorContext, subscription: string, kind: string, id: string): string {
  return `${armOrigin}/subscriptions/${subscription}/providers/Microsoft.MachineLearningServices/locations/${context.location}/${kind}/${id}?api-version=${machineLearningApiVersion}`;
}

function retryAfter(context: EmulatorContext): Record<string, string> {
  const seconds = context.delays.pollRetryAfterSeconds;
  return seconds === undefined ? {} : { 'Retry-After': String(seconds) };
}

/** Registers an operation whose progress `check` reports; returns its id. */
export function startOperation(context: EmulatorContext, check: () => OperationOutcome): string {
  const id = newOperationId();
  context.state.operations.set(id, { id, startedAt: context.now(), check });
  return id;
}

/** Headers of a PUT's 200/201: ARM's `Azure-AsyncOperation`, polled for `{ status }`. */
export function asyncOperationHeaders(
  context: EmulatorContext,
  subscription: string,
  operationId: string,
): Record<string, string> {
  return {
    'Azure-AsyncOperation': operationUrl(context, subscription, 'mfeOperationsStatus', operationId),
    'x-ms-async-operation-timeout': 'PT1H',
  };
}

/** Headers of a PATCH/DELETE/POST 202: `Location`, polled until it stops answering 202. */
export function locationHeaders(
  context: EmulatorContext,
  subscription: string,
  operationId: string,
): Record<string, string> {
  return {
    Location: operationUrl(context, subscription, 'mfeOperationResults', operationId),
    ...retryAfter(context),
  };
}

/** GET `.../mfeOperationsStatus/{id}` and `.../mfeOperationResults/{id}`, or undefined for other paths. */
export function handleOperationPoll(
  context: EmulatorContext,
  method: string,
  path: string,
): EmulatorReply | undefined {
  const match =
    /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/locations\/([^/]+)\/(mfeOperationsStatus|mfeOperationResults)\/([^/]+)$/i.exec(
      path,
    );
  if (!match || method !== 'GET') return undefined;
  const [, subscription = '', , kind = '', id = ''] = match;
  const operation = context.state.operations.get(id);
  if (!operation) {
    return {
      status: 404,
      body: { error: { code: 'ResourceNotFound', message: `Operation '${id}' was not found.` } },
    };
  }
  const outcome = operation.check();
  if (outcome.state !== 'running' && operation.endedAt === undefined) operation.endedAt = context.now();
  if (kind.toLowerCase() === 'mfeoperationsstatus') {
    const status =
      outcome.state === 'running' ? 'InProgress' : outcome.state === 'succeeded' ? 'Succeeded' : 'Failed';
    return {
      status: 200,
      headers: outcome.state === 'running' ? retryAfter(context) : {},
      body: {
        id: path,
        name: id,
        status,
        startTime: new Date(operation.startedAt).toISOString(),
        ...(operation.endedAt ? { endTime: new Date(operation.endedAt).toISOString() } : {}),
        ...(outcome.state === 'failed' ? { error: outcome.error } : {}),
      },
    };
  }
  if (outcome.state === 'running') {
    return { status: 202, headers: locationHeaders(context, subscription, id) };
  }
  if (outcome.state === 'failed') {
    return { status: 400, body: { error: outcome.error } };
  }
  return outcome.body === undefined ? { status: 204 } : { status: 200, body: outcome.body };
}
