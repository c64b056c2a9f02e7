/**
 * The cloud side of a backend, as the conformance suite sees it: each emulator (and the in-memory
 * backend's fake cloud) offers one, so the suite can inject a fault at any request, stop a client right
 * after the cloud accepted a request, and check what the cloud holds. Names are the cloud's own
 * operation names (`CreateEndpoint`, `PUT onlineEndpoints/deployments`, `DeployModel`, ...).
 */
export interface ConformanceCloud {
  /** Every request the cloud answered (faults included), in order: operation names. */
  requests(): string[];
  /** Forgets the requests seen so far. */
  resetRequests(): void;
  /** Whether an operation changes something (the suite injects faults at these). */
  isMutating(operation: string): boolean;
  /**
   * Makes the next `count` requests of `operation` fail with the cloud's own answer for `fault`:
   * `accessDenied` (a permission refusal), `serverError` (a 500) or `throttling`.
   */
  injectFault(fault: ConformanceFault, operation: string, count: number): void;
  /** Removes faults not yet used. */
  clearFaults(): void;
  /**
   * Calls `listener` after the cloud has carried out a request and before it answers, so a test can
   * abort the client then: as if the process died right after the cloud accepted the call. Returns a
   * function that removes the listener.
   */
  onRequest(listener: (operation: string) => void): () => void;
  /**
   * Everything the cloud holds for deployment `name` (models, configs, endpoints, deployments, alarms,
   * autoscaling), as ids: empty once the deployment is deleted, nothing left behind.
   */
  resources(name: string): Promise<string[]>;
  /** The autoscaling bounds in force for deployment `name`, read from the cloud itself, or undefined. */
  autoscaling(name: string): Promise<{ minReplicas: number; maxReplicas: number } | undefined>;
  /**
   * The environment the cloud runs the deployment's container with (the one place secrets may be), or
   * undefined when no container runs.
   */
  containerEnvironment(name: string): Promise<Record<string, string> | undefined>;
  /**
   * Everything else the cloud stores (tags, properties, labels, descriptions, configs, statuses), as
   * text, without container environments: a secret found in it has leaked.
   */
  dump(): Promise<string>;
}

export type ConformanceFault = 'accessDenied' | 'serverError' | 'throttling';
