import { expect, it } from 'vitest';
import {
  type BackendCapabilityV1,
  type DeploymentStatus,
  terminalTrainingJobStates,
} from '../backend/v1/index.js';
import { MlscaleError } from '../errors.js';
import type { DeploymentSpecInput, PredictRequest, PredictResponse } from '../spec/index.js';
import { waitFor } from '../wait.js';
import {
  type ConformanceContext,
  deleteAndCheckNothingLeft,
  mutatingRequests,
  rejection,
  specFor,
} from './conformance-context.js';

/** Capabilities a deployment spec can ask for, and a spec fragment that asks for each. */
const capabilityProbes: { capability: BackendCapabilityV1; fragment: Partial<DeploymentSpecInput> }[] = [
  { capability: 'serverless', fragment: { serverless: { memoryMb: 2048, maxConcurrency: 5 } } },
  { capability: 'gpu', fragment: { instance: { accelerator: { type: 'gpu', count: 1 } } } },
  { capability: 'customerManagedKeys', fragment: { encryption: { keyId: 'conformance-key' } } },
  { capability: 'privateNetworking', fragment: { network: { private: true } } },
];

/** Every client method once: deployments, validation, errors, training, monitoring, models. */
export function describeLifecycle(context: ConformanceContext): void {
  const { options, prefix, timeout } = context;
  const client = () => context.client();

  it('reports specification v1 with a provider id and capabilities', () => {
    const backend = context.backend();
    expect(backend.specificationVersion).toBe('v1');
    expect(backend.provider).toMatch(/^[a-z][a-z0-9-]*$/);
    for (const value of Object.values(backend.capabilities)) expect(typeof value).toBe('boolean');
  });

  it(
    'deploys, gets, lists, scales, predicts and deletes',
    async () => {
      const name = `${prefix}-lifecycle`;
      const deployed = await client().deploy(specFor(context, name));
      expect(deployed.name).toBe(name);
      expect(deployed.state).toBe('InService');
      expect(deployed.replicas.ready).toBeGreaterThanOrEqual(1);
      expect(deployed.specHash).toMatch(/^[0-9a-f]{64}$/);
      expect(deployed.servingSpecHash).toBe(deployed.specHash);

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
      await expect(client().get(name)).rejects.toSatisfy((error) => MlscaleError.hasCode(error, 'NotFound'));
    },
    timeout,
  );

  it(
    'only reads in get and list: no mutating request reaches the cloud',
    async (test) => {
      const cloud = context.cloud();
      if (!cloud) return test.skip('no cloud view given');
      const name = `${prefix}-pure-reads`;
      await client().deploy(specFor(context, name));
      cloud.resetRequests();
      await client().get(name);
      for await (const _status of client().list()) {
        // listing is the point
      }
      await client().get(name);
      expect(mutatingRequests(cloud)).toEqual([]);
      await deleteAndCheckNothingLeft(context, client(), name);
    },
    timeout,
  );

  it('rejects an invalid spec with InvalidSpec naming the fields, before any backend call', async () => {
    const before = context.calls.length;
    const invalid = { ...specFor(context, `${prefix}-invalid`), name: 'Not_A_DNS_Label', replicas: -1 };
    const error = await rejection(client().deploy(invalid));
    expect(error.code).toBe('InvalidSpec');
    expect(error.issues.map((issue) => issue.path)).toEqual(expect.arrayContaining(['name', 'replicas']));
    expect(context.calls.length).toBe(before);
  });

  it('answers NotFound for a deployment that does not exist', async () => {
    const name = `${prefix}-missing`;
    for (const attempt of [
      () => client().get(name),
      () => client().predict(name, options.predictRequest),
      () => client().scale(name, 1),
      () => client().update({ name, replicas: 2 }),
    ]) {
      expect((await rejection(attempt())).code).toBe('NotFound');
    }
  });

  it(
    'deletes twice (the second finds nothing) and converges a repeated deploy',
    async () => {
      const name = `${prefix}-repeat`;
      expect(await client().delete(name)).toEqual({ deleted: false });
      const first = await client().deploy(specFor(context, name));
      const second = await client().deploy(specFor(context, name));
      expect(second.state).toBe('InService');
      expect(second.specHash).toBe(first.specHash);
      const other = await rejection(client().deploy(specFor(context, name, { replicas: 3 })));
      expect(other.code).toBe('AlreadyExists');
      expect(await client().delete(name)).toEqual({ deleted: true });
      expect(await client().delete(name)).toEqual({ deleted: false });
      const cloud = context.cloud();
      if (cloud) expect(await cloud.resources(name)).toEqual([]);
    },
    timeout,
  );

  it('rejects a spec needing a capability the backend lacks with Unsupported, before any backend call', async (test) => {
    const probe = capabilityProbes.find((candidate) => !context.backend().capabilities[candidate.capability]);
    if (!probe) return test.skip('the backend has every probed capability');
    const before = context.calls.length;
    const error = await rejection(
      client().deploy({
        ...specFor(context, `${prefix}-unsupported`),
        ...probe.fragment,
      } as DeploymentSpecInput),
    );
    expect(error.code).toBe('Unsupported');
    expect(error.message).toContain(probe.capability);
    expect(context.calls.length).toBe(before);
  });

  it(
    'runs a training job to completion, lists it, refuses its name twice, and stops another',
    async (test) => {
      if (!options.trainingJob || !context.backend().capabilities.training) {
        return test.skip('no training job given, or the backend has no training');
      }
      const name = `${prefix}-job-${Date.now().toString(36)}`;
      const started = await client().train(options.trainingJob(name), { wait: false });
      expect(started.name).toBe(name);
      const names: string[] = [];
      for await (const job of client().jobs()) names.push(job.name);
      expect(names).toContain(name);
      // A second train with the same name must not start a second job.
      expect((await rejection(client().train(options.trainingJob(name)))).code).toBe('AlreadyExists');
      const final = await waitForTerminal(context, name);
      expect(final.state).toBe('Completed');

      const stopped = `${prefix}-stop-${Date.now().toString(36)}`;
      await client().train(options.trainingJob(stopped), { wait: false });
      const ended = await client().stopJob(stopped);
      expect(terminalTrainingJobStates.has(ended.state)).toBe(true);
      expect(['Stopped', 'Completed']).toContain(ended.state);
    },
    timeout,
  );

  it(
    'reads metrics and logs of a deployment, and puts, lists and deletes an alert',
    async (test) => {
      if (!context.backend().capabilities.monitoring) return test.skip('the backend has no monitoring');
      const name = `${prefix}-monitored`;
      await client().deploy(specFor(context, name));
      await client().predict(name, options.predictRequest);
      const metrics = await client().metrics({
        target: { deployment: name },
        names: ['invocations'],
        periodSeconds: 60,
      });
      expect(metrics.periodSeconds).toBe(60);
      const served = metrics.series.find((series) => series.name === 'invocations');
      const absent = metrics.absent?.find((entry) => entry.name === 'invocations');
      expect(served ?? absent, 'invocations is served or said to be absent').toBeDefined();
      for (const series of metrics.series) expect(series.values.length).toBe(series.timestamps.length);
      const entries = [];
      for await (const entry of client().logs({ deployment: name }, { limit: 5 })) entries.push(entry);
      expect(entries.length).toBeLessThanOrEqual(5);
      for (const entry of entries) expect(entry.time).toBeInstanceOf(Date);

      const alert = `${prefix}-alert`;
      const put = await client().alerts.put({
        name: alert,
        target: { deployment: name },
        metric: 'errors5xx',
        comparator: '>',
        threshold: 10,
        forSeconds: 60,
      });
      expect(put.rule.name).toBe(alert);
      expect((await client().alerts.list()).map((status) => status.rule.name)).toContain(alert);
      expect(await client().alerts.delete(alert)).toEqual({ deleted: true });
      expect(await client().alerts.delete(alert)).toEqual({ deleted: false });
      await deleteAndCheckNothingLeft(context, client(), name);
    },
    timeout,
  );

  it(
    'registers a model version, reads it back and lists it',
    async (test) => {
      if (!options.modelRegistration || !context.backend().capabilities.modelRegistry) {
        return test.skip('no model registration given, or the backend has no registry');
      }
      const name = `${prefix}-model`;
      const registered = await client().models.register(options.modelRegistration(name));
      expect(registered.name).toBe(name);
      expect(registered.version).toBeGreaterThanOrEqual(1);
      const latest = await client().models.get(name);
      expect(latest.version).toBe(registered.version);
      const versions = [];
      for await (const version of client().models.list(name)) versions.push(version.version);
      expect(versions).toContain(registered.version);
      expect((await rejection(client().models.get(name, registered.version + 100))).code).toBe('NotFound');
    },
    timeout,
  );
}

/** The job once it has ended, polled with core's waiter. */
function waitForTerminal(context: ConformanceContext, name: string) {
  return waitFor({
    description: `training job '${name}' to end`,
    minDelayMs: 50,
    maxDelayMs: 200,
    maxWaitMs: context.timeout,
    check: async () => {
      const status = await context.client().job(name);
      return terminalTrainingJobStates.has(status.state)
        ? { state: 'SUCCESS', value: status }
        : { state: 'RETRY', progress: status.state };
    },
  });
}

export function defaultPredictionCheck(response: PredictResponse, request: PredictRequest): void {
  expect(response.outputs.length).toBeGreaterThan(0);
  if (request.outputs)
    expect(response.outputs.map((output) => output.name).sort()).toEqual([...request.outputs].sort());
  for (const output of response.outputs) {
    const size = output.shape.reduce((product, dimension) => product * dimension, 1);
    expect(output.data.length).toBe(size);
  }
}
