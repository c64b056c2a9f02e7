import type { EmulatorContext, RequestListener } from './context.js';
import type { InjectedFault } from './fault-injection.js';
import type { StoredDeployedModel, StoredEndpoint, StoredModel } from './vertex-state.js';

/** The label mlscale puts on what it creates for a deployment (endpoints, models). */
const deploymentLabel = 'mlscale-deployment';

/** What a container environment is replaced with in `dump()`. */
export const containerEnvironmentPlaceholder = '[container environment]';

/** RPCs that change something (the conformance suite injects faults at these). */
const mutatingMethods = new Set([
  'CreateEndpoint',
  'UpdateEndpoint',
  'DeleteEndpoint',
  'DeployModel',
  'UndeployModel',
  'MutateDeployedModel',
  'UploadModel',
  'DeleteModel',
  'CreateCustomJob',
  'CancelCustomJob',
  'CreateAlertPolicy',
  'UpdateAlertPolicy',
  'DeleteAlertPolicy',
  'CancelOperation',
  'DeleteOperation',
]);

/** What the emulator holds for one deployment, by the `mlscale-deployment` label. */
export interface DeploymentInventory {
  /** Endpoint names. */
  endpoints: string[];
  /** `<endpoint>/deployedModels/<id>` of each model deployed on those endpoints. */
  deployedModels: string[];
  /** Names of the models labelled with the deployment. */
  models: string[];
}

/**
 * The emulator as a test harness sees it: the RPCs it answered, faults to inject per RPC, a listener
 * for the moment after a request was carried out, and what it holds (per deployment, the serving
 * container's environment, everything else as text with container environments left out).
 */
export interface VertexEmulatorInspection {
  /** The method name of every RPC received, in order (`CreateEndpoint`, `GetOperation`, ...), faults included. */
  requests(): string[];
  resetRequests(): void;
  /** Whether an RPC changes something. */
  isMutating(method: string): boolean;
  /**
   * Makes the next `count` calls of `method` fail as Google answers: `accessDenied` PERMISSION_DENIED
   * (7), `serverError` INTERNAL (13), `throttling` RESOURCE_EXHAUSTED (8). Nothing is carried out.
   */
  injectFault(fault: InjectedFault, method: string, count: number): void;
  clearFaults(): void;
  /** Calls `listener(method)` after each request is carried out, before it is answered. Returns its removal. */
  onRequest(listener: RequestListener): () => void;
  /**
   * Holds back the answer to the next call of `method` (carried out, its answer taken as it is then)
   * until `release()`: a test acts out a slow caller whose read another process's write overtakes.
   * `reached` resolves once that call has been carried out.
   */
  holdAnswer(method: string): { reached: Promise<void>; release(): void };
  inventory(deployment: string): DeploymentInventory;
  /**
   * The replica bounds Vertex autoscales the deployment's serving model within (the deployed model with
   * the most traffic), or undefined when it runs a fixed count (no metric specs, min = max).
   */
  autoscaling(deployment: string): { minReplicas: number; maxReplicas: number } | undefined;
  /** `containerSpec.env` of the model the deployment serves most traffic with, or undefined. */
  containerEnvironment(deployment: string): Record<string, string> | undefined;
  /**
   * Every resource the emulator stores (endpoints, models, custom jobs, operations, Cloud Storage
   * object names) as JSON, each container's `env` replaced by "[container environment]". The request
   * log is not state and is left out.
   */
  dump(): string;
}

export function createInspection(context: EmulatorContext): VertexEmulatorInspection {
  const { state } = context;
  const endpointsOf = (deployment: string) =>
    [...state.endpoints.values()].filter((endpoint) => endpoint.labels[deploymentLabel] === deployment);
  const servingModel = (
    deployment: string,
  ): { endpoint: StoredEndpoint; deployed: StoredDeployedModel } | undefined => {
    for (const endpoint of endpointsOf(deployment)) {
      const ranked = [...endpoint.deployedModels].sort(
        (a, b) => (endpoint.trafficSplit[b.id] ?? 0) - (endpoint.trafficSplit[a.id] ?? 0),
      );
      if (ranked[0]) return { endpoint, deployed: ranked[0] };
    }
    return undefined;
  };
  const versionOf = (deployed: StoredDeployedModel): StoredModel | undefined => {
    const id = deployed.model.split('/').at(-1)!.split('@')[0]!;
    return state.models.get(id)?.find((version) => version.versionId === deployed.modelVersionId);
  };
  return {
    requests: () => [...context.methodLog],
    resetRequests() {
      context.methodLog.length = 0;
    },
    isMutating: (method) => mutatingMethods.has(method),
    injectFault(fault, method, count) {
      context.injectedFaults.inject(fault, method, count);
    },
    clearFaults() {
      context.injectedFaults.clear();
    },
    onRequest(listener) {
      context.listeners.add(listener);
      return () => context.listeners.delete(listener);
    },
    holdAnswer(method) {
      let reached!: () => void;
      let release!: () => void;
      const arrived = new Promise<void>((resolve) => {
        reached = resolve;
      });
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      context.heldAnswers.push({ method, reached, gate });
      return { reached: arrived, release };
    },
    inventory(deployment) {
      const endpoints = endpointsOf(deployment);
      return {
        endpoints: endpoints.map((endpoint) => endpoint.name).sort(),
        deployedModels: endpoints
          .flatMap((endpoint) =>
            endpoint.deployedModels.map((deployed) => `${endpoint.name}/deployedModels/${deployed.id}`),
          )
          .sort(),
        models: [...state.models.values()]
          .filter((versions) => versions.some((version) => version.labels[deploymentLabel] === deployment))
          .map((versions) => versions[0]!.name)
          .sort(),
      };
    },
    autoscaling(deployment) {
      const resources = servingModel(deployment)?.deployed.dedicatedResources;
      if (!resources) return undefined;
      const min = Number(resources.minReplicaCount ?? 0);
      const max = Number(resources.maxReplicaCount || min);
      const scaled = (resources.autoscalingMetricSpecs?.length ?? 0) > 0 || max > min;
      return scaled ? { minReplicas: min, maxReplicas: max } : undefined;
    },
    containerEnvironment(deployment) {
      const serving = servingModel(deployment);
      const model = serving ? versionOf(serving.deployed) : undefined;
      const env = (model?.containerSpec as { env?: { name: string; value: string }[] } | undefined)?.env;
      return env ? Object.fromEntries(env.map((entry) => [entry.name, entry.value])) : undefined;
    },
    dump() {
      const stored = {
        endpoints: [...state.endpoints.values()],
        models: Object.fromEntries(state.models),
        customJobs: [...state.customJobs.values()],
        jobLogs: Object.fromEntries(state.jobLogs),
        operations: context.operations.all().map(({ name, done, error }) => ({ name, done, error })),
      };
      return JSON.stringify(stored, (key, value: unknown) =>
        key === 'env' && Array.isArray(value) ? containerEnvironmentPlaceholder : value,
      );
    },
  };
}
