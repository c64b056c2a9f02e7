import type { DeploymentSpec } from '@mlscale/core';
import { MlscaleError } from '@mlscale/core';
import type { DeploymentRecord } from '@mlscale/core/provider-utils';
import { awaitOperation, type OperationState } from './calls.js';
import type { AdapterContext } from './context.js';
import { describeDeployment, endpointLabels, freshProgress } from './deployment-store.js';
import {
  createEndpoint,
  getEndpoint,
  getOperation,
  type IEndpoint,
  listOperations,
} from './endpoint-calls.js';
import { endpointId, endpointName } from './names.js';
import { deploymentOptions } from './provider-options.js';

/**
 * A deployment's endpoint, created when there is none. The endpoint holds the record, and Vertex shows
 * an endpoint only once its CreateEndpoint operation is done, so this (unlike every later step) waits
 * for that operation: a short one, which serves nothing and costs nothing, and until it ends no process
 * could read what was asked for. The id is the deployment's (`mlscale-<name>`): a repeated create, or
 * one racing another process, names the same endpoint (ALREADY_EXISTS) instead of making a second. A
 * create another process left running is waited for, not repeated.
 */
export async function ensureEndpoint(
  context: AdapterContext,
  spec: DeploymentSpec,
  record: DeploymentRecord,
  signal: AbortSignal | undefined,
  raced = false,
): Promise<IEndpoint> {
  const name = endpointName(context.settings, spec.name);
  const existing = await getEndpoint(context, name, signal);
  if (existing) return existing;
  const pending = (await listOperations(context, name, signal)).find((operation) => !operation.done);
  if (pending?.name) {
    await finish(context, pending, `CreateEndpoint of '${spec.name}'`, signal).catch((error: unknown) => {
      // A create that failed is made again below; anything else (an abort, a 5xx) ends this call.
      if (!(MlscaleError.isInstance(error) && !error.retryable && error.code !== 'Aborted')) throw error;
    });
    const created = await getEndpoint(context, name, signal);
    if (created) return created;
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
    if (!MlscaleError.hasCode(error, 'AlreadyExists') || raced) throw error;
    // Another process created it meanwhile: wait for its create as for one left running.
    return ensureEndpoint(context, spec, record, signal, true);
  }
  await finish(context, operation, `CreateEndpoint of '${spec.name}'`, signal);
  const created = await getEndpoint(context, name, signal);
  if (!created) {
    throw new MlscaleError({
      code: 'BackendFailure',
      provider: 'gcp',
      retryable: true,
      message: `CreateEndpoint of '${spec.name}' finished but endpoint ${name} cannot be read yet.`,
    });
  }
  return created;
}

function finish(
  context: AdapterContext,
  operation: OperationState,
  what: string,
  signal: AbortSignal | undefined,
): Promise<OperationState> {
  if (operation.done) {
    return awaitOperation(context.settings, what, async () => operation, signal);
  }
  return awaitOperation(
    context.settings,
    what,
    async () => (await getOperation(context, operation.name!, signal)) ?? { ...operation, done: true },
    signal,
  );
}
