import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BackendCapabilityV1,
  type BackendV1,
  type DeploymentStatus,
  terminalTrainingJobStates,
} from '../backend/v1/index.js';
import { createMlscale, type MlscaleClient, type MlscaleSettings } from '../client/create-mlscale.js';
import { MlscaleError } from '../errors.js';
import type {
  DeploymentSpecInput,
  PredictRequest,
  PredictResponse,
  TrainingJobSpecInput,
} from '../spec/index.js';
import { waitFor } from '../wait.js';

/** What a backend's test file gives the shared suite. */
export interface BackendConformanceOptions {
  /** Shown in the suite's title. */
  name: string;
  /** Starts the backend (and whatever it talks to: an emulator, a server). Called once. */
  setup: () => Promise<{ backend: BackendV1; cleanup?: () => Promise<void> }>;
  /** A deployment the backend can serve, under the given name. */
  deployment: (name: string) => DeploymentSpecInput;
  /** A request the deployed model answers. */
  predictRequest: PredictRequest;
  /** Checks an answer; by default, one output per requested output with data matching its shape. */
  checkPrediction?: (response: PredictResponse, request: PredictRequest) => void;
  /** A training job the backend can run to completion, under the given name (skips training tests if absent). */
  trainingJob?: (name: string) => TrainingJobSpecInput;
  /** Prefix for resource names, so suites sharing a backend do not collide. Default `conf`. */
  namePrefix?: string;
  /** Per-test timeout. Default 60 s. */
  timeoutMs?: number;
  /** Passed to the client (polling intervals, retry). */
  client?: Omit<MlscaleSettings, 'backend'>;
}

/** Capabilities a deployment spec can ask for, and a spec fragment that asks for each. */
const capabilityProbes: { capability: BackendCapabilityV1; fragment: Partial<DeploymentSpecInput> }[] = [
  { capability: 'serverless', fragment: { serverless: { memoryMb: 2048, maxConcurrency: 5 } } },
  { capability: 'gpu', fragment: { instance: { accelerator: { type: 'gpu', count: 1 } } } },
  { capability: 'customerManagedKeys', fragment: { encryption: { keyId: 'conformance-key' } } },
  { capability: 'privateNetworking', fragment: { network: { private: true } } },
];

/**
 * The behaviour every mlscale backend shares, as one vitest suite: deploy → get → list → scale →
 * predict → delete, spec rejection before any backend call, not-found errors, idempotent delete and
 * deploy, capability rejection, and (when given a job) training to completion.
 */
export function describeBackendConformance(options: BackendConformanceOptions): void {
  const timeout = options.timeoutMs ?? 60_000;
  const prefix = options.namePrefix ?? 'conf';
  const state: {
    backend?: BackendV1;
    client?: MlscaleClient;
    cleanup?: () => Promise<void>;
    calls: string[];
  } = { calls: [] };
  const client = () => state.client!;

  describe(`backend conformance: ${options.name}`, () => {
    beforeAll(async () => {
      const { backend, cleanup } = await options.setup();
      state.backend = recordingBackend(backend, state.calls);
      state.client = createMlscale({
        polling: { minDelayMs: 20, maxDelayMs: 500 },
        ...options.client,
        backend: state.backend,
      });
      if (cleanup) state.cleanup = cleanup;
    }, timeout);

    afterAll(async () => {
      await state.cleanup?.();
    }, timeout);

    it('reports specification v1 with a provider id and capabilities', () => {
      const backend = state.backend!;
      expect(backend.specificationVersion).toBe('v1');
      expect(backend.provider).toMatch(/^[a-z][a-z0-9-]*$/);
      for (const value of Object.values(backend.capabilities)) expect(typeof value).toBe('boolean');
    });

    it(
      'deploys, gets, lists, scales, predicts and deletes',
      async () => {
        const name = `${prefix}-lifecycle`;
        const deployed = await client().deploy(options.deployment(name));
        expect(deployed.name).toBe(name);
        expect(deployed.state).toBe('InService');
        expect(deployed.replicas.ready).toBeGreaterThanOrEqual(1);
        expect(deployed.specHash).toMatch(/^[0-9a-f]{64}$/);

        const fetched = await client().get(name);
        expect(fetched.state).toBe('InService');
        expect(fetched.specHash).toBe(deployed.specHash);

        const listed: DeploymentStatus[] = [];
        for await (const status of client().list()) listed.push(status);
        expect(listed.map((status) => status.name)).toContain(name);

        const scaled = await client().scale(name, 2);
        expect(scaled.state).toBe('InService');
        expect(scaled.replicas.desired).toBe(2);
        expect((await client().get(name)).replicas.ready).toBe(2);

        const response = await client().predict(name, options.predictRequest);
        (options.checkPrediction ?? defaultPredictionCheck)(response, options.predictRequest);

        expect(await client().delete(name)).toEqual({ deleted: true });
        await expect(client().get(name)).rejects.toSatisfy((error) =>
          MlscaleError.hasCode(error, 'NotFound'),
        );
      },
      timeout,
    );

    it('rejects an invalid spec with InvalidSpec naming the fields, before any backend call', async () => {
      const before = state.calls.length;
      const invalid = { ...options.deployment(`${prefix}-invalid`), name: 'Not_A_DNS_Label', replicas: -1 };
      const error = await client()
        .deploy(invalid)
        .catch((caught: unknown) => caught);
      expect(MlscaleError.hasCode(error, 'InvalidSpec')).toBe(true);
      const paths = (error as MlscaleError).issues.map((issue) => issue.path);
      expect(paths).toEqual(expect.arrayContaining(['name', 'replicas']));
      expect(state.calls.length).toBe(before);
    });

    it('answers NotFound for a deployment that does not exist', async () => {
      const name = `${prefix}-missing`;
      for (const attempt of [
        () => client().get(name),
        () => client().predict(name, options.predictRequest),
        () => client().scale(name, 1),
      ]) {
        const error = await attempt().catch((caught: unknown) => caught);
        expect(MlscaleError.isInstance(error) ? error.code : error).toBe('NotFound');
      }
    });

    it(
      'deletes idempotently and converges a repeated deploy',
      async () => {
        const name = `${prefix}-repeat`;
        expect(await client().delete(name)).toEqual({ deleted: false });
        const first = await client().deploy(options.deployment(name));
        const second = await client().deploy(options.deployment(name));
        expect(second.state).toBe('InService');
        expect(second.specHash).toBe(first.specHash);
        expect(await client().delete(name)).toEqual({ deleted: true });
        expect(await client().delete(name)).toEqual({ deleted: false });
      },
      timeout,
    );

    it('rejects a spec needing a capability the backend lacks with Unsupported, before any backend call', async (context) => {
      const probe = capabilityProbes.find((candidate) => !state.backend!.capabilities[candidate.capability]);
      if (!probe) {
        context.skip('the backend has every probed capability');
        return;
      }
      const before = state.calls.length;
      const error = await client()
        .deploy({ ...options.deployment(`${prefix}-unsupported`), ...probe.fragment } as DeploymentSpecInput)
        .catch((caught: unknown) => caught);
      expect(MlscaleError.hasCode(error, 'Unsupported')).toBe(true);
      expect((error as MlscaleError).message).toContain(probe.capability);
      expect(state.calls.length).toBe(before);
    });

    it(
      'runs a training job to completion and lists it',
      async (context) => {
        if (!options.trainingJob || !state.backend!.capabilities.training) {
          context.skip('no training job given, or the backend has no training');
          return;
        }
        const name = `${prefix}-job-${Date.now().toString(36)}`;
        const started = await client().train(options.trainingJob(name), { wait: false });
        expect(started.name).toBe(name);
        const names: string[] = [];
        for await (const job of client().jobs()) names.push(job.name);
        expect(names).toContain(name);
        const finished = await client()
          .train(options.trainingJob(name))
          .catch((error: unknown) => error);
        // A second train with the same name must not start a second job.
        expect(MlscaleError.hasCode(finished, 'AlreadyExists')).toBe(true);
        const final = await waitForTerminal(client(), name, timeout);
        expect(final.state).toBe('Completed');
      },
      timeout,
    );
  });
}

/** The job once it has ended, polled with core's waiter. */
function waitForTerminal(client: MlscaleClient, name: string, timeoutMs: number) {
  return waitFor({
    description: `training job '${name}' to end`,
    minDelayMs: 100,
    maxDelayMs: 100,
    maxWaitMs: timeoutMs,
    check: async () => {
      const status = await client.job(name);
      return terminalTrainingJobStates.has(status.state)
        ? { state: 'SUCCESS', value: status }
        : { state: 'RETRY', progress: status.state };
    },
  });
}

function defaultPredictionCheck(response: PredictResponse, request: PredictRequest): void {
  expect(response.outputs.length).toBeGreaterThan(0);
  if (request.outputs)
    expect(response.outputs.map((output) => output.name).sort()).toEqual([...request.outputs].sort());
  for (const output of response.outputs) {
    const size = output.shape.reduce((product, dimension) => product * dimension, 1);
    expect(output.data.length).toBe(size);
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
