import { advance } from './advance.js';
import type { EmulatorContext } from './emulator-context.js';
import { type OperationFault, type OperationFaultOptions, OperationFaults } from './operation-faults.js';
import { isMutatingOperation } from './operation-names.js';
import { type ArmResource, type EndpointRecord, key } from './state.js';

/** One request the emulator answered, faults and refusals included. */
export interface LoggedOperation {
  /** `PUT onlineEndpoints`, `PUT onlineEndpoints/deployments`, `PATCH onlineEndpoints`, ... */
  operation: string;
  method: string;
  path: string;
  /** The status it was answered with. */
  status: number;
  /** When it arrived, epoch ms. */
  time: number;
}

/**
 * Called once the emulator has carried out a request (its state changed) and before it writes the
 * answer: aborting the client here is a process dying right after Azure accepted the call. Only
 * requests answered with a success are announced.
 */
export type OperationListener = (request: { operation: string; method: string; path: string }) => void;

/** The tag mlscale puts on the models and environments it registers for an endpoint. */
export const endpointAssetTag = 'mlscale-endpoint';

/** What a container environment is replaced with in `dump()`. */
export const containerEnvironmentPlaceholder = '[container environment]';

/**
 * What tests read and script about the emulator, beside the wire: the request log by operation,
 * faults per operation, a listener between acting and answering, and what the emulated Azure holds.
 */
export interface AzureMlEmulatorInspection {
  /** Every request answered since the last reset, in order. */
  requests(): LoggedOperation[];
  resetRequests(): void;
  /** Whether an operation changes something (PUT, PATCH, DELETE and acting POSTs). */
  isMutating(operation: string): boolean;
  /**
   * Makes the next `count` requests of `operation` fail before the emulator acts, as ARM answers:
   * `accessDenied` 403 AuthorizationFailed, `serverError` 500, `throttling` 429 with Retry-After,
   * `operationInProgress` 409 RequestConflict (another client's operation holds the resource).
   */
  injectFault(fault: OperationFault, operation: string, count: number, options?: OperationFaultOptions): void;
  clearFaults(): void;
  /** Adds a listener (see `OperationListener`); returns a function that removes it. */
  onRequest(listener: OperationListener): () => void;
  /**
   * Everything held for one endpoint name, in any workspace, as ids: the endpoint, its deployments,
   * autoscale settings aimed at it or its deployments (even ones left behind), and model and
   * environment versions tagged `mlscale-endpoint` with its name. Deletions that are due are done first.
   */
  inventory(endpoint: string): string[];
  /** The bounds of the enabled autoscale setting on the deployment with the most traffic, if any. */
  autoscaling(endpoint: string): { minReplicas: number; maxReplicas: number } | undefined;
  /** The environment variables of the deployment with the most traffic (else the first), if any. */
  containerEnvironment(endpoint: string): Record<string, string> | undefined;
  /**
   * All stored state as JSON text (resources with tags and properties, logs, jobs, assets, autoscale
   * settings), every `environmentVariables` replaced by "[container environment]". Endpoint keys and
   * tokens, the request log and pending operations are not state and are left out.
   */
  dump(): string;
}

/** The inspection API, with the hooks the server uses to feed it. */
export interface EmulatorInspectionHooks {
  inspection: AzureMlEmulatorInspection;
  faults: OperationFaults;
  log(entry: LoggedOperation): void;
  announce(request: { operation: string; method: string; path: string }): void;
}

export function createInspection(context: EmulatorContext): EmulatorInspectionHooks {
  let log: LoggedOperation[] = [];
  const listeners = new Set<OperationListener>();
  const faults = new OperationFaults();

  const endpointsNamed = (name: string): EndpointRecord[] => {
    advance(context);
    return [...context.state.workspaces.values()].flatMap((workspace) => {
      const endpoint = workspace.endpoints.get(key(name));
      return endpoint ? [endpoint] : [];
    });
  };

  const inspection: AzureMlEmulatorInspection = {
    requests: () => [...log],
    resetRequests: () => {
      log = [];
    },
    isMutating: isMutatingOperation,
    injectFault: (fault, operation, count, options) => faults.arm(fault, operation, count, options),
    clearFaults: () => faults.clear(),
    onRequest(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    inventory(name) {
      const ids: string[] = [];
      for (const endpoint of endpointsNamed(name)) {
        ids.push(`onlineEndpoints/${endpoint.resource.name}`);
        for (const deployment of endpoint.deployments.values())
          ids.push(`onlineEndpoints/${endpoint.resource.name}/deployments/${deployment.resource.name}`);
      }
      for (const workspace of context.state.workspaces.values()) {
        for (const [kind, assets] of [
          ['models', workspace.models],
          ['environments', workspace.environments],
        ] as const) {
          for (const asset of assets.values()) {
            for (const [version, resource] of asset.versions) {
              const tags = (resource.properties.tags ?? {}) as Record<string, string>;
              if (key(tags[endpointAssetTag] ?? '') === key(name))
                ids.push(`${kind}/${asset.container.name}/versions/${version}`);
            }
          }
        }
      }
      const aimedAt = new RegExp(`/onlineendpoints/${escapeRegExp(key(name))}(?:/|$)`);
      for (const setting of context.state.autoscaleSettings.values()) {
        if (aimedAt.test(key(String(setting.properties.targetResourceUri ?? ''))))
          ids.push(`autoscalesettings/${setting.name}`);
      }
      return ids.sort();
    },
    autoscaling(name) {
      const [endpoint] = endpointsNamed(name);
      const primary = endpoint ? primaryDeployment(endpoint, true) : undefined;
      if (!primary) return undefined;
      for (const setting of context.state.autoscaleSettings.values()) {
        const properties = setting.properties as {
          enabled?: boolean;
          targetResourceUri?: string;
          profiles?: { capacity: { minimum: string; maximum: string } }[];
        };
        if (properties.enabled !== true || key(properties.targetResourceUri ?? '') !== key(primary.id))
          continue;
        const capacity = properties.profiles?.[0]?.capacity;
        if (capacity) return { minReplicas: Number(capacity.minimum), maxReplicas: Number(capacity.maximum) };
      }
      return undefined;
    },
    containerEnvironment(name) {
      const [endpoint] = endpointsNamed(name);
      const primary = endpoint ? primaryDeployment(endpoint, false) : undefined;
      return primary
        ? { ...((primary.properties.environmentVariables ?? {}) as Record<string, string>) }
        : undefined;
    },
    dump() {
      advance(context);
      const state = {
        workspaces: [...context.state.workspaces.values()].map((workspace) => ({
          resource: workspace.resource,
          endpoints: [...workspace.endpoints.values()].map((endpoint) => ({
            resource: endpoint.resource,
            deployments: [...endpoint.deployments.values()].map((deployment) => ({
              resource: deployment.resource,
              error: deployment.error,
              storageInitializerLog: deployment.storageInitializerLog,
              inferenceServerLog: deployment.inferenceServerLog,
            })),
          })),
          jobs: [...workspace.jobs.values()].map((job) => job.resource),
          models: [...workspace.models.values()].map((asset) => ({
            container: asset.container,
            versions: [...asset.versions.values()],
          })),
          environments: [...workspace.environments.values()].map((asset) => ({
            container: asset.container,
            versions: [...asset.versions.values()],
          })),
          datastores: [...workspace.datastores.values()],
        })),
        autoscaleSettings: [...context.state.autoscaleSettings.values()],
      };
      return JSON.stringify(state, (field, value: unknown) =>
        field === 'environmentVariables' && typeof value === 'object' && value !== null
          ? containerEnvironmentPlaceholder
          : value,
      );
    },
  };

  return {
    inspection,
    faults,
    log: (entry) => {
      log.push(entry);
    },
    announce(request) {
      for (const listener of [...listeners]) {
        try {
          listener(request);
        } catch {
          // A listener's failure is the test's business; the emulator answers all the same.
        }
      }
    },
  };
}

/** The deployment with the largest share of traffic; without traffic, the first one unless `serving`. */
function primaryDeployment(endpoint: EndpointRecord, serving: boolean): ArmResource | undefined {
  const traffic = (endpoint.resource.properties.traffic ?? {}) as Record<string, number>;
  const share = (name: string) => Object.entries(traffic).find(([item]) => key(item) === key(name))?.[1] ?? 0;
  const deployments = [...endpoint.deployments.values()]
    .filter((deployment) => deployment.deletingAt === undefined)
    .map((deployment) => deployment.resource)
    .sort((left, right) => share(right.name) - share(left.name));
  const first = deployments[0];
  if (!first) return undefined;
  return serving && share(first.name) === 0 ? undefined : first;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
