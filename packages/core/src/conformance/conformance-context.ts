import { expect } from 'vitest';
import type { BackendV1, DeploymentStatus } from '../backend/v1/index.js';
import { memoryAuditSink } from '../client/audit.js';
import { createMlscale } from '../client/create-mlscale.js';
import type { MlscaleEvent } from '../client/events.js';
import type { MlscaleClient } from '../client/mlscale-client.js';
import { MlscaleError } from '../errors.js';
import type { DeploymentSpecInput } from '../spec/index.js';
import type { ConformanceCloud } from './conformance-cloud.js';
import type { BackendConformanceOptions, ConformanceSetup } from './conformance-options.js';

/** What every part of the suite shares: the backend, its client, the cloud, and what they recorded. */
export interface ConformanceContext {
  options: BackendConformanceOptions;
  prefix: string;
  timeout: number;
  /** Backend calls, in order (`deployments.doCreate`, ...), to prove validation comes first. */
  calls: string[];
  audit: ReturnType<typeof memoryAuditSink>;
  events: MlscaleEvent[];
  setup(): ConformanceSetup;
  backend(): BackendV1;
  client(): MlscaleClient;
  cloud(): ConformanceCloud | undefined;
  /** A client over a fresh backend on the same cloud (a new process); closed at the end. */
  reopen(): Promise<MlscaleClient>;
  /** The client's retry budget: most attempts of one backend call. */
  maxAttempts(): number;
  /** A client like `client()` with these settings on top. */
  clientWith(settings: Partial<Parameters<typeof createMlscale>[0]>): MlscaleClient;
}

export function createConformanceContext(options: BackendConformanceOptions): ConformanceContext & {
  start(): Promise<void>;
  stop(): Promise<void>;
} {
  const calls: string[] = [];
  const audit = memoryAuditSink();
  const events: MlscaleEvent[] = [];
  const reopened: BackendV1[] = [];
  let started: ConformanceSetup | undefined;
  let recorded: BackendV1 | undefined;
  let client: MlscaleClient | undefined;
  const settings = () => ({
    polling: { minDelayMs: 20, maxDelayMs: 500 },
    ...options.client,
    audit,
    onEvent: (event: MlscaleEvent) => {
      events.push(event);
      options.client?.onEvent?.(event);
    },
  });
  const context = {
    options,
    prefix: options.namePrefix ?? 'conf',
    timeout: options.timeoutMs ?? 60_000,
    calls,
    audit,
    events,
    setup: () => started!,
    backend: () => recorded!,
    client: () => client!,
    cloud: () => started?.cloud,
    async reopen() {
      const backend = await started!.reopen!();
      reopened.push(backend);
      return createMlscale({ ...settings(), backend });
    },
    maxAttempts: () => {
      const retry = options.client?.retry;
      return retry === false ? 1 : (retry?.maxAttempts ?? 5);
    },
    clientWith: (extra: Partial<Parameters<typeof createMlscale>[0]>) =>
      createMlscale({ ...settings(), backend: recorded!, ...extra }),
    async start() {
      started = await options.setup();
      recorded = recordingBackend(started.backend, calls);
      client = createMlscale({ ...settings(), backend: recorded });
    },
    async stop() {
      for (const backend of reopened) await backend.close?.();
      await started?.cleanup?.();
    },
  };
  return context;
}

/** The deployment spec under `name`, with extra fields. */
export function specFor(context: ConformanceContext, name: string, extra: Partial<DeploymentSpecInput> = {}) {
  return { ...context.options.deployment(name), ...extra } as DeploymentSpecInput;
}

/** The deployment spec with the suite's autoscaling policy. */
export function autoscaledSpec(context: ConformanceContext, name: string): DeploymentSpecInput {
  const policy = context.options.autoscaling!;
  return specFor(context, name, { autoscaling: policy, replicas: policy.minReplicas || 1 });
}

/** Rejects with an MlscaleError; returns it. */
export async function rejection(promise: Promise<unknown>): Promise<MlscaleError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!MlscaleError.isInstance(error)) {
    throw new Error(`expected an MlscaleError, got ${error === undefined ? 'success' : String(error)}`);
  }
  return error;
}

/** The cloud's mutating requests since the last reset. */
export function mutatingRequests(cloud: ConformanceCloud): string[] {
  return cloud.requests().filter((operation) => cloud.isMutating(operation));
}

/** Deletes a deployment and checks the cloud holds nothing of it. */
export async function deleteAndCheckNothingLeft(
  context: ConformanceContext,
  client: MlscaleClient,
  name: string,
): Promise<void> {
  await client.delete(name);
  await expect(client.get(name)).rejects.toSatisfy((error) => MlscaleError.hasCode(error, 'NotFound'));
  const cloud = context.cloud();
  if (cloud) expect(await cloud.resources(name), `left behind by ${name}`).toEqual([]);
}

/** Checks that autoscaling is in force as the suite's policy says, read from the cloud itself. */
export async function expectAutoscalingInForce(context: ConformanceContext, status: DeploymentStatus) {
  const policy = context.options.autoscaling!;
  expect(status.autoscaling?.minReplicas).toBe(policy.minReplicas);
  expect(status.autoscaling?.maxReplicas).toBe(policy.maxReplicas);
  const cloud = context.cloud();
  if (cloud) {
    expect(await cloud.autoscaling(status.name), `autoscaling of ${status.name} at the cloud`).toEqual({
      minReplicas: policy.minReplicas,
      maxReplicas: policy.maxReplicas,
    });
  }
}

/** Wraps each operation group so every call is counted (proving validation happens before any call). */
function recordingBackend(backend: BackendV1, calls: string[]): BackendV1 {
  const wrap = <Group extends object>(group: Group | undefined, label: string): Group | undefined => {
    if (!group) return undefined;
    return new Proxy(group, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(`${label}.${String(property)}`);
          return value.apply(target, args);
        };
      },
    });
  };
  return {
    specificationVersion: backend.specificationVersion,
    provider: backend.provider,
    capabilities: backend.capabilities,
    deployments: wrap(backend.deployments, 'deployments')!,
    ...(backend.training ? { training: wrap(backend.training, 'training')! } : {}),
    ...(backend.monitoring ? { monitoring: wrap(backend.monitoring, 'monitoring')! } : {}),
    ...(backend.models ? { models: wrap(backend.models, 'models')! } : {}),
    close: () => backend.close?.() ?? Promise.resolve(),
  };
}
