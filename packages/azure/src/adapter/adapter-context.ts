import { cloudCall } from '@mlscale/core/provider-utils';
import type { AzureClients } from './azure-clients.js';
import { type PollerLike, startOperation } from './long-running-operation.js';
import type { ResolvedAzureMlSettings } from './settings.js';
import { isNotFound, toMlscaleError } from './to-mlscale-error.js';

/** What the operation groups share. */
export interface AdapterContext {
  settings: ResolvedAzureMlSettings;
  clients: () => Promise<AzureClients>;
  /** `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}`. */
  workspaceId: string;
  /**
   * Runs one SDK call (one attempt: the SDK clients do not retry, the mlscale client does), turning its
   * errors into classified MlscaleErrors that name `what`; an abort throws `Aborted`.
   */
  call<T>(what: string, run: (clients: AzureClients) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Like `call`, but a 404 resolves `undefined`. */
  find<T>(
    what: string,
    run: (clients: AzureClients) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T | undefined>;
  /**
   * Starts a long-running operation (the SDK's `begin*`: the request and one look at its status) and
   * stops there: the reconcile step that comes next reads where it stands.
   */
  start(
    what: string,
    signal: AbortSignal | undefined,
    begin: (clients: AzureClients, options: { abortSignal?: AbortSignal }) => Promise<PollerLike<unknown>>,
  ): Promise<void>;
}

export function createAdapterContext(
  settings: ResolvedAzureMlSettings,
  clients: () => Promise<AzureClients>,
): AdapterContext {
  const call: AdapterContext['call'] = (what, run, signal) =>
    cloudCall({ what, signal, classify: toMlscaleError }, async () => run(await clients()));
  return {
    settings,
    clients,
    workspaceId: `/subscriptions/${settings.subscriptionId}/resourceGroups/${settings.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${settings.workspace}`,
    call,
    find: (what, run, signal) =>
      call(
        what,
        async (resolved) => {
          try {
            return await run(resolved);
          } catch (error) {
            if (isNotFound(error)) return undefined;
            throw error;
          }
        },
        signal,
      ),
    start: (what, signal, begin) =>
      call(what, (resolved) => startOperation((options) => begin(resolved, options), signal), signal),
  };
}
