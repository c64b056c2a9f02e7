import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MlscaleError } from '../errors.js';
import type { DeploymentSpecInput } from '../spec/index.js';
import { createInMemoryBackend } from '../test/index.js';
import { jsonLinesAuditSink, memoryAuditSink } from './audit.js';
import { createMlscale } from './create-mlscale.js';
import type { MlscaleEvent } from './events.js';

const fast = { polling: { minDelayMs: 1, maxDelayMs: 5 }, retry: { baseDelayMs: 1, maxDelayMs: 5 } };
const spec = { name: 'mnist-classifier', model: { uri: './mnist.onnx' } };

describe('createMlscale', () => {
  it('refuses something that is not a v1 backend', () => {
    expect(() => createMlscale({ backend: { specificationVersion: 'v2' } as never })).toThrow(
      /specification v1/,
    );
  });

  it.each([
    ['serverless', { serverless: {} }],
    ['gpu', { instance: { accelerator: { type: 'nvidia-t4' } } }],
    [
      'trafficSplit',
      {
        traffic: [
          { model: { name: 'mnist', version: 1 }, weight: 50 },
          { model: { name: 'mnist', version: 2 }, weight: 50 },
        ],
      },
    ],
    [
      'autoscaling',
      { autoscaling: { minReplicas: 1, maxReplicas: 3, target: { metric: 'requestsPerSecond', value: 10 } } },
    ],
    ['privateNetworking', { network: { subnets: ['subnet-1'] } }],
    ['customerManagedKeys', { encryption: { keyId: 'key-1' } }],
  ])('rejects a deployment needing %s when the backend lacks it', async (capability, fragment) => {
    const backend = createInMemoryBackend({ capabilities: { [capability]: false } });
    const client = createMlscale({ backend, ...fast });
    const error = await client
      .deploy({ ...spec, ...fragment } as DeploymentSpecInput)
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'Unsupported')).toBe(true);
    expect((error as Error).message).toContain(capability);
    expect(backend.calls).toEqual([]);
  });

  it("refuses what the backend's own limits refuse, before any backend call, on deploy and update", async () => {
    const backend = createInMemoryBackend();
    backend.deployments.validateSpec = (candidate) =>
      candidate.rollout && candidate.rollout.steps[0]! > 50
        ? [{ path: 'rollout.steps[0]', message: 'expected a first step of at most 50%' }]
        : [];
    const client = createMlscale({ backend, ...fast });
    await client.deploy(spec);
    const callsBefore = backend.calls.length;
    const error = await client
      .update({ name: spec.name, model: { uri: './v2.onnx' }, rollout: { steps: [60, 100] } })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'InvalidSpec')).toBe(true);
    expect((error as MlscaleError).issues).toEqual([
      { path: 'rollout.steps[0]', message: 'expected a first step of at most 50%' },
    ]);
    expect((error as Error).message).toMatch(/rollout\.steps\[0\]: expected a first step of at most 50%/);
    expect(backend.calls.slice(callsBefore).map((call) => call.method)).toEqual(['deployments.doGet']);
    const refusedDeploy = await client
      .deploy({ name: 'other-model', model: { uri: './m.onnx' }, rollout: { steps: [70, 100] } })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(refusedDeploy, 'InvalidSpec')).toBe(true);
    expect(backend.calls.slice(callsBefore).map((call) => call.method)).toEqual(['deployments.doGet']);
  });

  it('rejects scale to zero, spot and distributed training when missing', async () => {
    const backend = createInMemoryBackend({
      capabilities: { scaleToZero: false, spot: false, distributed: false },
    });
    const client = createMlscale({ backend, ...fast });
    await expect(
      client.autoscale('mnist-classifier', {
        minReplicas: 0,
        maxReplicas: 2,
        target: { metric: 'concurrentRequests', value: 4 },
      }),
    ).rejects.toThrow(/scaleToZero/);
    await expect(
      client.train({ name: 'train-job', command: ['node', 'x.js'], spot: { maxWaitSeconds: 60 } }),
    ).rejects.toThrow(/spot/);
    await expect(
      client.train({ name: 'train-job', command: ['node', 'x.js'], distribution: { processesPerNode: 2 } }),
    ).rejects.toThrow(/distributed/);
    expect(backend.calls).toEqual([]);
  });

  it('waits until InService, reporting progress', async () => {
    const backend = createInMemoryBackend({ stepsToInService: 3 });
    const events: MlscaleEvent[] = [];
    const client = createMlscale({ backend, ...fast, onEvent: (event) => events.push(event) });
    const status = await client.deploy(spec);
    expect(status.state).toBe('InService');
    // The waiter drives convergence: each poll is one reconcile step, and nothing else reads.
    expect(backend.callsTo('deployments.doReconcile').length).toBe(3);
    expect(backend.callsTo('deployments.doGet')).toEqual([]);
    expect(events.map((event) => event.type)).toEqual([
      'operation-started',
      'operation-progress',
      'operation-progress',
      'operation-succeeded',
    ]);
  });

  it('returns at once with wait: false', async () => {
    const backend = createInMemoryBackend({ stepsToInService: 3 });
    const client = createMlscale({ backend, ...fast });
    const status = await client.deploy(spec, { wait: false });
    expect(status.state).toBe('Creating');
    expect(backend.callsTo('deployments.doReconcile')).toEqual([]);
    // Another client (another process) finishes it.
    const finished = await createMlscale({ backend, ...fast }).reconcile(spec.name);
    expect(finished?.state).toBe('InService');
  });

  it('merges an update onto the recorded spec: given fields replace, null removes, the rest stay', async () => {
    const backend = createInMemoryBackend();
    const client = createMlscale({ backend, ...fast });
    const autoscaling = {
      minReplicas: 2,
      maxReplicas: 6,
      target: { metric: 'concurrentRequests', value: 4 },
    } as const;
    await client.deploy({ ...spec, replicas: 2, autoscaling, tags: { team: 'vision' } });
    const updated = await client.update({
      name: spec.name,
      model: { uri: './mnist-v2.onnx' },
      rollout: { steps: [100] },
    });
    expect(updated.spec).toMatchObject({
      model: { uri: './mnist-v2.onnx' },
      autoscaling,
      replicas: 2,
      tags: { team: 'vision' },
    });
    const untagged = await client.update({ name: spec.name, tags: null });
    expect(untagged.spec.tags).toBeUndefined();
    expect(untagged.spec.autoscaling).toMatchObject(autoscaling);
    // A new policy moves the recorded count inside its bounds; scale() replaces the policy by a count.
    const wider = await client.autoscale(spec.name, { ...autoscaling, minReplicas: 3 });
    expect(wider.spec.replicas).toBe(3);
    const fixed = await client.scale(spec.name, 5);
    expect(fixed.spec.autoscaling).toBeUndefined();
    expect(fixed.spec.replicas).toBe(5);
    // A traffic split is replaced by a new model given alone: it serves everything.
    const split = await client.update({
      name: spec.name,
      model: { uri: './mnist-v2.onnx' },
      traffic: [
        { model: { uri: './mnist-v2.onnx' }, weight: 90 },
        { model: { uri: './mnist-v3.onnx' }, weight: 10 },
      ],
    });
    expect(split.spec.traffic).toHaveLength(2);
    const switched = await client.update({ name: spec.name, model: { uri: './mnist-v3.onnx' } });
    expect(switched.spec.traffic).toBeUndefined();
    expect(switched.spec.model).toMatchObject({ uri: './mnist-v3.onnx' });
    const invalid = await client.update({ name: spec.name, replicas: -3 }).catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(invalid, 'InvalidSpec')).toBe(true);
    expect((invalid as MlscaleError).issues.map((issue) => issue.path)).toEqual(['replicas']);
  });

  it('does not retry an error no adapter classified, and tries a retryable one at most maxAttempts times', async () => {
    const backend = createInMemoryBackend();
    const client = createMlscale({
      backend,
      ...fast,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    });
    backend.failNext(
      'deployments.doCreate',
      new TypeError("Cannot read properties of undefined (reading 'x')"),
    );
    const bug = await client.deploy(spec).catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(bug, 'BackendFailure')).toBe(true);
    expect((bug as MlscaleError).retryable).toBe(false);
    expect(backend.callsTo('deployments.doCreate').length).toBe(1);

    backend.failNext(
      'deployments.doCreate',
      () => new MlscaleError({ code: 'BackendFailure', retryable: true, message: 'HTTP 503' }),
      10,
    );
    const unavailable = await client.deploy(spec).catch((caught: unknown) => caught);
    expect((unavailable as MlscaleError).message).toContain('HTTP 503');
    expect(backend.callsTo('deployments.doCreate').length).toBe(1 + 3);
  });

  it('throws the failure reason of a deployment that fails', async () => {
    const backend = createInMemoryBackend({ failDeployment: () => 'The model image could not be pulled.' });
    const client = createMlscale({ backend, ...fast });
    await expect(client.deploy(spec)).rejects.toThrow('The model image could not be pulled.');
  });

  it('times out a wait and aborts one', async () => {
    const backend = createInMemoryBackend({ stepsToInService: 1_000_000 });
    const client = createMlscale({ backend, polling: { minDelayMs: 5, maxDelayMs: 5 } });
    const timedOut = await client.deploy(spec, { timeoutMs: 50 }).catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(timedOut, 'Timeout')).toBe(true);

    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const aborted = await client
      .update({ name: spec.name, replicas: 2 }, { signal: controller.signal })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(aborted, 'Aborted')).toBe(true);
  });

  it('refuses an incompatible model with the message packages/core/README.md quotes', async () => {
    const signature = (features: number) => ({
      inputs: [{ name: 'input', datatype: 'FP32' as const, shape: [-1, features] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32' as const, shape: [-1, 10] }],
    });
    const backend = createInMemoryBackend({
      signatures: { './mnist.onnx': signature(784), './mnist-100.onnx': signature(100) },
    });
    const client = createMlscale({ backend, ...fast });
    await client.deploy(spec);
    const refused = await client
      .update({ name: spec.name, model: { uri: './mnist-100.onnx' } })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(refused, 'InvalidSpec')).toBe(true);
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const quoted = /## Safe model updates[\s\S]*?```text\n([\s\S]*?)\n```/.exec(readme)?.[1];
    expect((refused as Error).message).toBe(quoted);
  });

  it('retries throttled calls and reports the retries', async () => {
    const backend = createInMemoryBackend();
    const events: MlscaleEvent[] = [];
    const client = createMlscale({ backend, ...fast, onEvent: (event) => events.push(event) });
    backend.failNext(
      'deployments.doCreate',
      () => new MlscaleError({ code: 'Throttled', message: 'Rate exceeded' }),
      2,
    );
    const status = await client.deploy(spec);
    expect(status.state).toBe('InService');
    expect(backend.callsTo('deployments.doCreate').length).toBe(3);
    expect(events.filter((event) => event.type === 'operation-retry').length).toBe(2);
  });

  it('lets an update through with a warning when the signature cannot be checked', async () => {
    const events: MlscaleEvent[] = [];
    const client = createMlscale({
      backend: createInMemoryBackend(),
      ...fast,
      onEvent: (event) => events.push(event),
    });
    await client.deploy(spec);
    const updated = await client.update({ name: spec.name, model: { uri: './mnist-v2.onnx' } });
    expect(updated.state).toBe('InService');
    expect(events.find((event) => event.type === 'operation-warning')).toMatchObject({
      operation: 'update',
      message: expect.stringMatching(/signature of what 'mnist-classifier' serves is unknown/),
    });
  });

  it('retries the start of a listing that is throttled', async () => {
    const backend = createInMemoryBackend();
    const client = createMlscale({ backend, ...fast });
    await client.deploy(spec);
    backend.failNext(
      'deployments.doList',
      () => new MlscaleError({ code: 'Throttled', message: 'Rate exceeded' }),
      2,
    );
    const names: string[] = [];
    for await (const status of client.list()) names.push(status.name);
    expect(names).toEqual([spec.name]);
    expect(backend.callsTo('deployments.doList').length).toBe(3);
  });

  it('does not retry when retry is off, and wraps foreign errors', async () => {
    const backend = createInMemoryBackend();
    const client = createMlscale({ backend, retry: false });
    backend.failNext('deployments.doCreate', new Error('socket hang up'));
    const error = await client.deploy(spec).catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'BackendFailure')).toBe(true);
    expect((error as MlscaleError).provider).toBe('memory');
    expect((error as MlscaleError).cause).toBeInstanceOf(Error);
    expect(backend.callsTo('deployments.doCreate').length).toBe(1);
  });

  it('audits each mutating call with its spec hash and result, without secrets', async () => {
    const backend = createInMemoryBackend();
    const audit = memoryAuditSink();
    const client = createMlscale({ backend, ...fast, audit, actor: 'ci-bot' });
    await client.deploy({ ...spec, environment: { API_TOKEN: 'hunter2-secret' } });
    await client.scale('mnist-classifier', 3);
    backend.failNext(
      'deployments.doDelete',
      new MlscaleError({ code: 'Unauthorized', message: 'Bearer abc.def.ghi is expired' }),
    );
    await expect(client.delete('mnist-classifier')).rejects.toThrow();
    await client.get('mnist-classifier');

    expect(audit.entries.map((entry) => [entry.operation, entry.result, entry.actor])).toEqual([
      ['deploy', 'succeeded', 'ci-bot'],
      ['scale', 'succeeded', 'ci-bot'],
      ['delete', 'failed', 'ci-bot'],
    ]);
    expect(audit.entries[0]!.specHash).toMatch(/^[0-9a-f]{64}$/);
    expect(audit.entries[2]!.error?.code).toBe('Unauthorized');
    const serialized = JSON.stringify(audit.entries);
    expect(serialized).not.toContain('hunter2');
    expect(serialized).not.toContain('abc.def.ghi');
  });

  it("masks a spec's secret values in an error that quotes them, in what it throws, logs and audits", async () => {
    const backend = createInMemoryBackend();
    const audit = memoryAuditSink();
    const logged: string[] = [];
    const client = createMlscale({
      backend,
      ...fast,
      audit,
      logger: {
        debug() {},
        info() {},
        warn() {},
        error: (message, fields) => logged.push(message, JSON.stringify(fields)),
      },
    });
    backend.failNext(
      'deployments.doCreate',
      new MlscaleError({
        code: 'InvalidSpec',
        message:
          "1 validation error detected: Value '{API_TOKEN=hunter2-plain-value}' at 'environment' failed",
      }),
    );
    const error = await client
      .deploy({ ...spec, environment: { API_TOKEN: 'hunter2-plain-value' } })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'InvalidSpec')).toBe(true);
    expect((error as MlscaleError).message).toContain("Value '{API_TOKEN=[redacted]}'");
    expect(JSON.stringify([audit.entries, logged])).not.toContain('hunter2-plain-value');
  });

  it('writes audit entries as JSON lines, and a failing sink does not fail the operation', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'mlscale-audit-'));
    try {
      const path = join(directory, 'nested', 'audit.jsonl');
      const client = createMlscale({
        backend: createInMemoryBackend(),
        ...fast,
        audit: jsonLinesAuditSink(path),
      });
      await Promise.all([client.deploy(spec), client.deploy({ ...spec, name: 'other-model' })]);
      const lines = (await readFile(path, 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(lines.map((line) => line.target).sort()).toEqual(['mnist-classifier', 'other-model']);

      const warnings: string[] = [];
      const failing = createMlscale({
        backend: createInMemoryBackend(),
        ...fast,
        audit: { write: async () => Promise.reject(new Error('disk full')) },
        logger: { debug() {}, info() {}, error() {}, warn: (message) => warnings.push(message) },
      });
      await expect(failing.deploy(spec)).resolves.toMatchObject({ state: 'InService' });
      expect(warnings.some((warning) => warning.includes('audit sink failed'))).toBe(true);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('trains to completion, throws on a failed job with its reason, and stops jobs', async () => {
    const backend = createInMemoryBackend({
      failTraining: (job) =>
        job.name === 'bad-job' ? 'exit code 3: ValueError: lr must be positive' : undefined,
    });
    const client = createMlscale({ backend, ...fast });
    const done = await client.train({ name: 'good-job', command: ['node', 'train.js'] });
    expect(done.state).toBe('Completed');
    await expect(client.train({ name: 'bad-job', command: ['node', 'train.js'] })).rejects.toThrow(
      'lr must be positive',
    );

    await client.train({ name: 'long-job', command: ['node', 'train.js'] }, { wait: false });
    const stopped = await client.stopJob('long-job');
    expect(stopped.state).toBe('Stopped');
    const names: string[] = [];
    for await (const job of client.jobs()) names.push(job.name);
    expect(names.sort()).toEqual(['bad-job', 'good-job', 'long-job']);
    await expect(client.job('no-such-job')).rejects.toSatisfy((error) =>
      MlscaleError.hasCode(error, 'NotFound'),
    );
  });

  it('registers and reads models, and validates names and versions', async () => {
    const client = createMlscale({ backend: createInMemoryBackend(), ...fast });
    await client.models.register({ name: 'mnist', path: './a.onnx' });
    const second = await client.models.register({
      name: 'mnist',
      path: './b.onnx',
      lineage: { jobName: 'good-job' },
    });
    expect(second.version).toBe(2);
    expect((await client.models.get('mnist')).version).toBe(2);
    expect((await client.models.get('mnist', 1)).version).toBe(1);
    await expect(client.models.get('mnist', 0)).rejects.toSatisfy((error) =>
      MlscaleError.hasCode(error, 'InvalidSpec'),
    );
    await expect(client.models.get('mnist', 7)).rejects.toSatisfy((error) =>
      MlscaleError.hasCode(error, 'NotFound'),
    );
  });

  it('reads metrics and logs, and manages alerts', async () => {
    const client = createMlscale({ backend: createInMemoryBackend(), ...fast });
    await client.deploy(spec);
    for (let index = 0; index < 3; index++) {
      await client.predict('mnist-classifier', {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [index] }],
      });
    }
    const result = await client.metrics({
      target: { deployment: 'mnist-classifier' },
      names: ['invocations', 'gpuUtilization'],
      periodSeconds: 3600,
    });
    const invocations = result.series.find((series) => series.name === 'invocations')!;
    expect(invocations.values.reduce((sum: number, value) => sum + (value ?? 0), 0)).toBe(3);
    expect(result.absent?.map((entry) => entry.name)).toEqual(['gpuUtilization']);

    const entries = [];
    for await (const entry of client.logs({ deployment: 'mnist-classifier' }, { limit: 2 }))
      entries.push(entry);
    expect(entries.length).toBe(2);

    await client.alerts.put({
      name: 'too-many-errors',
      target: { deployment: 'mnist-classifier' },
      metric: 'errors5xx',
      comparator: '>',
      threshold: 5,
    });
    expect((await client.alerts.list()).map((alert) => alert.rule.name)).toEqual(['too-many-errors']);
    expect(await client.alerts.delete('too-many-errors')).toEqual({ deleted: true });
    expect(await client.alerts.delete('too-many-errors')).toEqual({ deleted: false });
  });

  it('takes typed arrays as tensor data, and hands every backend plain arrays', async () => {
    const backend = createInMemoryBackend();
    const received: unknown[] = [];
    const doPredict = backend.deployments.doPredict.bind(backend.deployments);
    backend.deployments.doPredict = (name, request, options) => {
      received.push(request.inputs.map((input) => input.data));
      return doPredict(name, request, options);
    };
    const client = createMlscale({ backend, ...fast });
    await client.deploy(spec);
    await client.predict('mnist-classifier', {
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [1, 2], data: Float32Array.from([0.5, 2]) },
        { name: 'ids', datatype: 'INT64', shape: [2], data: BigInt64Array.from([7n, -1n]) },
      ],
    });
    expect(received).toEqual([
      [
        [0.5, 2],
        [7, -1],
      ],
    ]);
    await expect(
      client.predict('mnist-classifier', {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [3], data: new Float32Array(2) }],
      }),
    ).rejects.toThrow(/expected 3 values for shape \[3\], got 2/);
  });

  it('validates scale arguments and names', async () => {
    const backend = createInMemoryBackend();
    const client = createMlscale({ backend, ...fast });
    await expect(client.scale('mnist-classifier', -1)).rejects.toThrow(/whole number from 0 to 1000/);
    await expect(client.get('Bad Name')).rejects.toSatisfy((error) =>
      MlscaleError.hasCode(error, 'InvalidSpec'),
    );
    await expect(client.predict('mnist-classifier', { inputs: [] } as never)).rejects.toThrow(
      /at least one input tensor/,
    );
    expect(backend.calls).toEqual([]);
  });
});
