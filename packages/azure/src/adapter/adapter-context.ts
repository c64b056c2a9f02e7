import type { AzureClients } from './azure-clients.js';
import { type PollerLike, waitForOperation } from './long-running-operation.js';
import type { ResolvedAzureMlSettings } from './settings.js';
import { isNotFound, toMlscaleError } from './to-mlscale-error.js';

/** What the operation groups share. */
export interface AdapterContext {
  settings: ResolvedAzureMlSettings;
  clients: () => Promise<AzureClients>;
  /** `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}`. */
  workspaceId: string;
  /** The last failure seen per deployment (`endpoint/deployment`), for status reasons. */
  failures: Map<string, string>;
  /** Runs one SDK call, turning its errors into MlscaleErrors that name `what`. */
  call<T>(what: string, run: (clients: AzureClients) => Promise<T>): Promise<T>;
  /** Like `call`, but a 404 resolves `undefined`. */
  find<T>(what: string, run: (clients: AzureClients) => Promise<T>): Promise<T | undefined>;
  /** Starts a long-running operation and waits for it through the SDK's poller. */
  operation<T>(
    what: string,
    signal: AbortSignal | undefined,
    start: (
      clients: AzureClients,
      options: { abortSignal: AbortSignal; updateIntervalInMs: number },
    ) => Promise<PollerLike<T>>,
  ): Promise<T>;
}

export function createAdapterContext(
  settings: ResolvedAzureMlSettings,
  clients: () => Promise<AzureClients>,
): AdapterContext {
  const context: AdapterContext = {
    settings,
    clients,
    workspaceId: `/subscriptions/${settings.subscriptionId}/resourceGroups/${settings.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${settings.workspace}`,
    failures: new Map(),
    async call(what, run) {
      try {
        return await run(await clients());
      } catch (error) {
        throw toMlscaleError(error, what);
      }
    },
    async find(what, run) {
      try {
        return await run(await clients());
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw toMlscaleError(error, what);
      }
    },
    async operation(what, signal, start) {
      const resolved = await clients().catch((error: unknown) => {
        throw toMlscaleError(error, what);
      });
      return waitForOperation(
        (abortSignal) => start(resolved, { abortSignal, updateIntervalInMs: settings.pollIntervalMs }),
        { signal, timeoutMs: settings.operationTimeoutMs, description: what },
      );
    },
  };
  return context;
}
