import { MlscaleError } from '@mlscale/core';
import type { DeploymentRecord } from '@mlscale/core/provider-utils';
import { type OperationState, settleOperation } from './calls.js';
import type { AdapterContext } from './context.js';
import { observedOperation, type VertexObservation } from './deployment-observation.js';
import { describeDeployment, endpointLabels, freshProgress } from './deployment-store.js';
import {
  createEndpoint,
  getEndpoint,
  getOperation,
  type IEndpoint,
  listOperations,
} from './endpoint-calls.js';
import { provider } from './errors.js';
import { endpointId, endpointName } from './names.js';
import { operationFacts } from './operation-metadata.js';
import { deploymentOptions } from './provider-options.js';

/**
 * A new deployment's endpoint. The endpoint holds the record, and Vertex shows an endpoint only once its
 * CreateEndpoint operation is done, so until then no process can read what was asked for. Creation
 * therefore waits for that operation, a short one (it serves nothing and costs nothing), but only for
 * `polling.createEndpointWaitMs` and never past the caller's signal: a create still running then is
 * reported as such (the deployment is Creating), and the next reconcile step looks at the operation
 * again (`awaitCreation`). A create that ends in error is a refusal, with Vertex's message.
 */
export type EndpointCreation =
  | { state: 'created'; endpoint: IEndpoint }
  | { state: 'creating'; operation: OperationState };

/**
 * The deployment's endpoint, created with the record when there is none. The id is the deployment's
 * (`mlscale-<name>`): a repeated create, or one racing another process, names the same endpoint
 * (ALREADY_EXISTS) instead of making a second. A create another process left running is waited for,
 * not repeated.
 */
export async function ensureEndpoint(
  context: AdapterContext,
  record: DeploymentRecord,
  signal: AbortSignal | undefined,
): Promise<EndpointCreation> {
  // The record's spec, sealed: nothing built from it (labels above all) carries a secret.
  const spec = record.desired;
  const name = endpointName(context.settings, spec.name);
  const existing = await getEndpoint(context, name, signal);
  if (existing) return { state: 'created', endpoint: existing };
  const pending = newestCreate(await listOperations(context, name, signal));
  if (pending && !pending.done) {
    const settled = await settleCreate(context, pending, spec.name, signal).catch((error: unknown) => {
      // Another request's create that was refused: this one makes its own (and hears its own answer).
      if (MlscaleError.isInstance(error) && !error.retryable && error.code !== 'Aborted') return undefined;
      throw error;
    });
    if (settled && !settled.done) return { state: 'creating', operation: settled };
    const created = await getEndpoint(context, name, signal);
    if (created) return { state: 'created', endpoint: created };
  }
  const options = deploymentOptions(spec.providerOptions?.gcp);
  let operation: OperationState;
  try {
    operation = await createEndpoint(
      context,
      endpointId(spec.name),
      {
        displayName: spec.name,
        description: describeDeployment(record, freshProgress(record)),
        labels: endpointLabels(spec),
        ...(spec.encryption ? { encryptionSpec: { kmsKeyName: spec.encryption.keyId } } : {}),
        ...(spec.network?.private && options.network ? { network: options.network } : {}),
      },
      signal,
    );
  } catch (error) {
    if (!MlscaleError.hasCode(error, 'AlreadyExists')) throw error;
    // Taken meanwhile: by an endpoint now there, or by a create under way that this call cannot see.
    const raced = await getEndpoint(context, name, signal);
    if (raced) return { state: 'created', endpoint: raced };
    throw new MlscaleError({
      code: 'Conflict',
      provider,
      retryable: true,
      message: `Endpoint ${name} is being created by another request; it is looked for again.`,
      cause: error,
    });
  }
  const settled = await settleCreate(context, operation, spec.name, signal);
  if (!settled.done) return { state: 'creating', operation: settled };
  const created = await getEndpoint(context, name, signal);
  if (!created) {
    // Done without error: the endpoint exists, and a read moments later will show it.
    throw new MlscaleError({
      code: 'BackendFailure',
      provider,
      retryable: true,
      message: `CreateEndpoint of '${spec.name}' finished but endpoint ${name} cannot be read yet.`,
    });
  }
  return { state: 'created', endpoint: created };
}

/**
 * For a step that finds no endpoint (and so no record): the CreateEndpoint on its name, if that is the
 * newest operation there, waited for a little. 'created' once it is done, 'absent' when no create is
 * under way. A create that failed throws its refusal; one still running throws a retryable `Conflict`,
 * so the client takes the step again later.
 */
export async function awaitCreation(
  context: AdapterContext,
  deployment: string,
  signal: AbortSignal | undefined,
): Promise<'created' | 'absent'> {
  const newest = newestOperation(
    await listOperations(context, endpointName(context.settings, deployment), signal),
  );
  if (!newest || operationFacts(newest).kind !== 'CreateEndpoint') return 'absent';
  const settled = await settleCreate(context, newest, deployment, signal);
  if (settled.done) return 'created';
  throw new MlscaleError({
    code: 'Conflict',
    provider,
    retryable: true,
    message: `CreateEndpoint of '${deployment}' (operation ${settled.name}) is still in progress; its record can be read once it is done.`,
  });
}

/** What a status shows of a deployment whose endpoint is still being created: the record it was given. */
export function creatingObservation(
  context: AdapterContext,
  record: DeploymentRecord,
  operation: OperationState,
): VertexObservation {
  return {
    endpoint: { name: endpointName(context.settings, record.desired.name), displayName: record.desired.name },
    record,
    progress: undefined,
    endpointOperations: [observedOperation(operation)],
    models: [],
    modelOperations: new Map(),
  };
}

/** The CreateEndpoint operation, looked at until done or the creation wait is up. */
function settleCreate(
  context: AdapterContext,
  operation: OperationState,
  deployment: string,
  signal: AbortSignal | undefined,
): Promise<OperationState> {
  const look = async (): Promise<OperationState> =>
    operation.done || !operation.name
      ? operation
      : // An operation the service no longer has is done; the endpoint read after it tells how.
        ((await getOperation(context, operation.name, signal)) ?? { ...operation, done: true });
  return settleOperation(
    context.settings,
    `CreateEndpoint of '${deployment}'`,
    look,
    signal,
    context.settings.polling.createEndpointWaitMs,
  );
}

/** The newest operation of a list, by Vertex's create_time. */
function newestOperation(operations: readonly OperationState[]): OperationState | undefined {
  const time = (operation: OperationState) => operationFacts(operation).createdAt?.getTime() ?? 0;
  return [...operations].sort((a, b) => time(b) - time(a))[0];
}

/** The newest CreateEndpoint operation of a list. */
function newestCreate(operations: readonly OperationState[]): OperationState | undefined {
  return newestOperation(
    operations.filter((operation) => operationFacts(operation).kind === 'CreateEndpoint'),
  );
}
