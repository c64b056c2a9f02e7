import type { ConformanceCloud, ConformanceFault } from '../conformance/conformance-cloud.js';
import { MlscaleError } from '../errors.js';

/** What a memory endpoint runs: the model version and the container's environment. */
export interface MemoryEndpointConfig {
  model: string;
  environment: Record<string, string>;
}

/** An endpoint of the memory cloud. */
export interface MemoryEndpoint {
  name: string;
  state: 'Creating' | 'Updating' | 'InService' | 'Failed' | 'Deleting';
  config: MemoryEndpointConfig;
  replicas: number;
  tags: Record<string, string>;
  failureReason?: string;
  createdAt: Date;
  updatedAt: Date;
  /** Reads left before the current transition ends (the cloud's clock). */
  stepsLeft: number;
  /** Set by the cloud when the transition it is in will fail. */
  failing?: string;
  /** What an update replaced, to go back to if the update fails. */
  previousConfig?: MemoryEndpointConfig;
}

/** The cloud's autoscaling registration of one endpoint. */
export interface MemoryAutoscaling {
  minReplicas: number;
  maxReplicas: number;
  target: number;
}

const mutatingOperations = new Set([
  'CreateEndpoint',
  'UpdateEndpoint',
  'UpdateCapacity',
  'DeleteEndpoint',
  'TagEndpoint',
  'PutAutoscaling',
  'DeleteAutoscaling',
]);

/**
 * A small cloud in memory, for the in-memory backend: endpoints that move through Creating/Updating →
 * InService as they are read (its clock), autoscaling registrations, tags; and the conformance suite's
 * view of it (faults, request log, listeners, inventory).
 */
export interface MemoryCloud {
  createEndpoint(
    name: string,
    config: MemoryEndpointConfig,
    replicas: number,
    tags: Record<string, string>,
  ): MemoryEndpoint;
  /** Reads an endpoint; each read is a tick of the cloud's clock. */
  describeEndpoint(name: string): MemoryEndpoint | undefined;
  /** Reads without a tick (what a status read uses after a step). */
  peekEndpoint(name: string): MemoryEndpoint | undefined;
  listEndpoints(): MemoryEndpoint[];
  updateEndpoint(name: string, config: MemoryEndpointConfig): void;
  updateCapacity(name: string, replicas: number): void;
  tagEndpoint(name: string, tags: Record<string, string>, removed: string[]): void;
  deleteEndpoint(name: string): void;
  putAutoscaling(name: string, policy: MemoryAutoscaling): void;
  deleteAutoscaling(name: string): void;
  describeAutoscaling(name: string): MemoryAutoscaling | undefined;
  /** What the conformance suite reads and scripts. */
  readonly conformance: ConformanceCloud;
}

export function createMemoryCloud(options: {
  provider: string;
  stepsToInService: number;
  /** The reason a new configuration fails to start with, if it does. */
  failure?: (endpoint: string, config: MemoryEndpointConfig) => string | undefined;
}): MemoryCloud {
  const endpoints = new Map<string, MemoryEndpoint>();
  const autoscaling = new Map<string, MemoryAutoscaling>();
  const requests: string[] = [];
  const faults: { fault: ConformanceFault; operation: string; remaining: number }[] = [];
  const listeners = new Set<(operation: string) => void>();
  const { provider } = options;

  /** Logs the request, answers an armed fault, runs it, then tells the listeners. */
  function request<T>(operation: string, run: () => T): T {
    requests.push(operation);
    const armed = faults.find((entry) => entry.operation === operation && entry.remaining > 0);
    if (armed) {
      armed.remaining -= 1;
      throw faultError(armed.fault, operation);
    }
    const result = run();
    for (const listener of [...listeners]) listener(operation);
    return result;
  }

  function faultError(fault: ConformanceFault, operation: string): MlscaleError {
    if (fault === 'accessDenied')
      return new MlscaleError({
        code: 'Unauthorized',
        provider,
        statusCode: 403,
        message: `memory cloud ${operation} failed: AccessDenied: the caller may not ${operation}`,
      });
    if (fault === 'throttling')
      return new MlscaleError({
        code: 'Throttled',
        provider,
        statusCode: 429,
        message: `memory cloud ${operation} failed: Throttling: rate exceeded`,
      });
    return new MlscaleError({
      code: 'BackendFailure',
      provider,
      retryable: true,
      statusCode: 500,
      message: `memory cloud ${operation} failed: InternalFailure`,
    });
  }

  function existing(name: string, operation: string): MemoryEndpoint {
    const endpoint = endpoints.get(name);
    if (!endpoint)
      throw new MlscaleError({
        code: 'NotFound',
        provider,
        message: `memory cloud ${operation}: no endpoint '${name}'`,
      });
    return endpoint;
  }

  function requireInService(endpoint: MemoryEndpoint, operation: string): void {
    if (endpoint.state !== 'InService')
      throw new MlscaleError({
        code: 'Conflict',
        provider,
        retryable: endpoint.state === 'Creating' || endpoint.state === 'Updating',
        message: `memory cloud ${operation}: endpoint '${endpoint.name}' is ${endpoint.state}, not InService`,
      });
  }

  function transition(
    endpoint: MemoryEndpoint,
    state: MemoryEndpoint['state'],
    config?: MemoryEndpointConfig,
  ) {
    endpoint.state = state;
    endpoint.stepsLeft = options.stepsToInService;
    endpoint.updatedAt = new Date();
    const failing = config ? options.failure?.(endpoint.name, config) : undefined;
    if (failing) endpoint.failing = failing;
    else delete endpoint.failing;
  }

  function tick(endpoint: MemoryEndpoint): void {
    if (endpoint.state === 'InService' || endpoint.state === 'Failed') return;
    if (endpoint.stepsLeft > 0) {
      endpoint.stepsLeft -= 1;
      return;
    }
    if (endpoint.state === 'Deleting') {
      endpoints.delete(endpoint.name);
      autoscaling.delete(endpoint.name);
      return;
    }
    if (endpoint.failing) {
      endpoint.failureReason = endpoint.failing;
      // A failed create stays Failed; a failed update goes back to what served, as SageMaker does.
      if (endpoint.state === 'Updating' && endpoint.previousConfig) endpoint.config = endpoint.previousConfig;
      endpoint.state = endpoint.state === 'Creating' ? 'Failed' : 'InService';
      delete endpoint.failing;
    } else {
      endpoint.state = 'InService';
      delete endpoint.failureReason;
    }
    delete endpoint.previousConfig;
    endpoint.updatedAt = new Date();
  }

  const snapshot = (endpoint: MemoryEndpoint): MemoryEndpoint => structuredClone(endpoint);

  const cloud: MemoryCloud = {
    createEndpoint(name, config, replicas, tags) {
      return request('CreateEndpoint', () => {
        if (endpoints.has(name))
          throw new MlscaleError({
            code: 'AlreadyExists',
            provider,
            message: `memory cloud CreateEndpoint: endpoint '${name}' already exists`,
          });
        const now = new Date();
        const endpoint: MemoryEndpoint = {
          name,
          state: 'Creating',
          config: structuredClone(config),
          replicas,
          tags: { ...tags },
          createdAt: now,
          updatedAt: now,
          stepsLeft: 0,
        };
        transition(endpoint, 'Creating', config);
        endpoints.set(name, endpoint);
        return snapshot(endpoint);
      });
    },
    describeEndpoint(name) {
      return request('DescribeEndpoint', () => {
        const endpoint = endpoints.get(name);
        if (!endpoint) return undefined;
        tick(endpoint);
        const current = endpoints.get(name);
        return current ? snapshot(current) : undefined;
      });
    },
    peekEndpoint(name) {
      const endpoint = endpoints.get(name);
      return endpoint ? snapshot(endpoint) : undefined;
    },
    listEndpoints() {
      return request('ListEndpoints', () => [...endpoints.values()].map(snapshot));
    },
    updateEndpoint(name, config) {
      request('UpdateEndpoint', () => {
        const endpoint = existing(name, 'UpdateEndpoint');
        requireInService(endpoint, 'UpdateEndpoint');
        endpoint.previousConfig = endpoint.config;
        endpoint.config = structuredClone(config);
        transition(endpoint, 'Updating', config);
      });
    },
    updateCapacity(name, replicas) {
      request('UpdateCapacity', () => {
        const endpoint = existing(name, 'UpdateCapacity');
        requireInService(endpoint, 'UpdateCapacity');
        endpoint.replicas = replicas;
        transition(endpoint, 'Updating');
      });
    },
    tagEndpoint(name, tags, removed) {
      request('TagEndpoint', () => {
        const endpoint = existing(name, 'TagEndpoint');
        for (const key of removed) delete endpoint.tags[key];
        Object.assign(endpoint.tags, tags);
      });
    },
    deleteEndpoint(name) {
      request('DeleteEndpoint', () => {
        const endpoint = existing(name, 'DeleteEndpoint');
        if (endpoint.state === 'Deleting') return;
        transition(endpoint, 'Deleting');
      });
    },
    putAutoscaling(name, policy) {
      request('PutAutoscaling', () => {
        existing(name, 'PutAutoscaling');
        autoscaling.set(name, { ...policy });
      });
    },
    deleteAutoscaling(name) {
      request('DeleteAutoscaling', () => {
        autoscaling.delete(name);
      });
    },
    describeAutoscaling(name) {
      return request('DescribeAutoscaling', () => {
        const found = autoscaling.get(name);
        return found ? { ...found } : undefined;
      });
    },
    conformance: {
      requests: () => [...requests],
      resetRequests: () => {
        requests.length = 0;
      },
      isMutating: (operation) => mutatingOperations.has(operation),
      injectFault(fault, operation, count) {
        faults.push({ fault, operation, remaining: count });
      },
      clearFaults() {
        faults.length = 0;
      },
      onRequest(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      async resources(name) {
        return [
          ...(endpoints.has(name) ? [`endpoint/${name}`] : []),
          ...(autoscaling.has(name) ? [`autoscaling/${name}`] : []),
        ];
      },
      async autoscaling(name) {
        const found = autoscaling.get(name);
        return found ? { minReplicas: found.minReplicas, maxReplicas: found.maxReplicas } : undefined;
      },
      async containerEnvironment(name) {
        const endpoint = endpoints.get(name);
        return endpoint ? { ...endpoint.config.environment } : undefined;
      },
      async dump() {
        const state = [...endpoints.values()].map((endpoint) => ({
          ...endpoint,
          config: { ...endpoint.config, environment: '[container environment]' },
        }));
        return JSON.stringify({ endpoints: state, autoscaling: Object.fromEntries(autoscaling) });
      },
    },
  };
  return cloud;
}
