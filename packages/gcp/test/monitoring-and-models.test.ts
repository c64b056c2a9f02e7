import {
  createMlscale,
  type LogEntry,
  type MlscaleClient,
  MlscaleError,
  type ModelVersion,
} from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVertexTestSetup, type VertexTestSetup, type WireMessage } from './vertex-test-setup.js';

const prefix = 'aiplatform.googleapis.com/prediction/online/';

describe('vertex() monitoring and model registry on the emulator', () => {
  let setup: VertexTestSetup;
  let client: MlscaleClient;

  beforeAll(async () => {
    setup = await startVertexTestSetup();
    client = createMlscale({ backend: setup.backend, polling: { minDelayMs: 20, maxDelayMs: 200 } });
  }, 60_000);

  afterAll(async () => {
    await setup?.cleanup();
  }, 60_000);

  it('registers versions in the Vertex Model Registry (UploadModel with parent_model) and deploys one', async () => {
    const first = await client.models.register({
      name: 'mnist',
      path: setup.modelPath,
      metadata: { accuracy: 0.97 },
      lineage: { jobName: 'train-1' },
    });
    const second = await client.models.register({
      name: 'mnist',
      path: setup.modelPath,
      metadata: { accuracy: 0.98 },
    });
    expect([first.version, second.version]).toEqual([1, 2]);
    expect(first.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(first.uri).toMatch(/^gs:\/\/mlscale-artifacts\/mlscale\/artifacts\/[0-9a-f]{64}\/model\.onnx$/);
    const uploads = setup.emulator.requests
      .filter((request) => request.method === 'ModelService.UploadModel')
      .map((request) => request.request as WireMessage);
    expect(uploads[0]!.parentModel ?? '').toBe('');
    expect(uploads[1]!.parentModel).toMatch(/^projects\/mlscale-test\/locations\/us-central1\/models\/\d+$/);

    expect((await client.models.get('mnist')).version).toBe(2);
    const one = await client.models.get('mnist', 1);
    expect(one.metadata).toEqual({ accuracy: 0.97 });
    expect(one.lineage).toEqual({ jobName: 'train-1' });
    const versions: ModelVersion[] = [];
    for await (const version of client.models.list('mnist')) versions.push(version);
    expect(versions.map((version) => version.version)).toEqual([2, 1]);
    await expect(client.models.get('mnist', 7)).rejects.toSatisfy((error) =>
      MlscaleError.hasCode(error, 'NotFound'),
    );

    const deployed = await client.deploy({ name: 'registry', model: { name: 'mnist', version: 1 } });
    expect(deployed.state).toBe('InService');
    const endpoint = [...setup.emulator.state.endpoints.values()].find(
      (item) => item.labels['mlscale-deployment'] === 'registry',
    )!;
    expect(endpoint.deployedModels[0]!.modelVersionId).toBe('1');
    expect(deployed.traffic[0]!.version).toMatch(/^mnist@1-/);
  });

  it('reads Cloud Monitoring series for predictions, latencies and replicas, and says what is absent', async () => {
    const from = new Date(Date.now() - 60_000);
    for (let index = 0; index < 5; index++) {
      await client.predict('registry', {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [index, 1] }],
      });
    }
    await client
      .predict('registry', { inputs: [{ name: 'x', datatype: 'BYTES', shape: [1], data: ['not a number'] }] })
      .catch(() => undefined);
    const result = await client.metrics({
      target: { deployment: 'registry' },
      names: ['invocations', 'errors5xx', 'latencyP99', 'replicas', 'latencyP90', 'queueDepth'],
      from,
      to: new Date(Date.now() + 60_000),
      periodSeconds: 120,
    });
    const sum = (name: string) =>
      result.series
        .find((series) => series.name === name)!
        .values.reduce<number>((total, value) => total + (value ?? 0), 0);
    expect(sum('invocations')).toBe(5);
    expect(sum('errors5xx')).toBe(1);
    expect(sum('latencyP99')).toBeGreaterThan(0);
    // A gauge: each bucket holds the replica count then (one replica), not a sum.
    const replicas = result.series
      .find((series) => series.name === 'replicas')!
      .values.filter((value) => value !== null);
    expect(replicas.length).toBeGreaterThan(0);
    expect(new Set(replicas)).toEqual(new Set([1]));
    expect(result.absent?.map((item) => item.name)).toEqual(['latencyP90', 'queueDepth']);

    const metricRequest = setup.emulator.requests
      .filter((request) => request.method === 'MetricService.ListTimeSeries')
      .at(0)!.request as WireMessage;
    expect(metricRequest.filter).toMatch(
      new RegExp(
        `^metric.type = "${prefix}prediction_count" AND resource.labels.endpoint_id = "mlscale-registry"$`,
      ),
    );
    expect(metricRequest.aggregation).toMatchObject({
      perSeriesAligner: 'ALIGN_SUM',
      crossSeriesReducer: 'REDUCE_SUM',
      alignmentPeriod: { seconds: '120' },
    });
  });

  it('averages CPU utilization and accelerator duty cycle across replicas', async () => {
    const endpointId = [...setup.emulator.state.endpoints.values()]
      .find((item) => item.labels['mlscale-deployment'] === 'registry')!
      .name.split('/')
      .at(-1)!;
    const now = Date.now();
    for (const [replica, cpu, gpu] of [
      ['a', 40, 70],
      ['b', 60, 90],
    ] as const) {
      for (const type of ['cpu/utilization', 'accelerator/duty_cycle']) {
        setup.emulator.recordMetric({
          type: `${prefix}${type}`,
          resourceLabels: { endpoint_id: endpointId },
          metricLabels: { replica_id: replica },
          time: new Date(now - 1000),
          value: type.startsWith('cpu') ? cpu : gpu,
        });
      }
    }
    const result = await client.metrics({
      target: { deployment: 'registry' },
      names: ['cpuUtilization', 'gpuUtilization'],
      from: new Date(now - 60_000),
      to: new Date(now + 1000),
      periodSeconds: 300,
      stat: 'average',
    });
    expect(
      result.series.map((series) => [
        series.name,
        series.unit,
        series.values.filter((value) => value !== null),
      ]),
    ).toEqual([
      ['cpuUtilization', 'Percent', [50]],
      ['gpuUtilization', 'Percent', [80]],
    ]);
  });

  it('reads prediction access logs of a deployment', async () => {
    const entries: LogEntry[] = [];
    for await (const entry of client.logs({ deployment: 'registry' })) entries.push(entry);
    expect(entries).toHaveLength(5);
    expect(entries[0]!.message).toMatch(/^POST :predict 200 1 instances/);
    expect(entries[0]!.source).toBe('request');
  });

  it('keeps alert rules as Cloud Monitoring alert policies and evaluates them from the series', async () => {
    const firing = await client.alerts.put({
      name: 'busy',
      target: { deployment: 'registry' },
      metric: 'invocations',
      stat: 'sum',
      comparator: '>=',
      threshold: 1,
      forSeconds: 0,
      periodSeconds: 300,
    });
    expect(firing.state).toBe('firing');
    const [create] = setup.emulator.requests.filter(
      (request) => request.method === 'AlertPolicyService.CreateAlertPolicy',
    );
    const policy = (create!.request as { alertPolicy: WireMessage }).alertPolicy;
    expect(policy.conditions[0].conditionThreshold).toMatchObject({
      comparison: 'COMPARISON_GE',
      thresholdValue: 1,
      duration: { seconds: '0' },
    });
    await client.alerts.put({
      name: 'quiet',
      target: { deployment: 'registry' },
      metric: 'errors5xx',
      comparator: '>',
      threshold: 100,
    });
    const alerts = await client.alerts.list();
    expect(alerts.map((alert) => [alert.rule.name, alert.state]).sort()).toEqual([
      ['busy', 'firing'],
      ['quiet', 'ok'],
    ]);
    expect(await client.alerts.delete('busy')).toEqual({ deleted: true });
    expect(await client.alerts.delete('busy')).toEqual({ deleted: false });
    await expect(
      client.alerts.put({
        name: 'drifting',
        target: { deployment: 'registry' },
        metric: 'drift',
        comparator: '>',
        threshold: 0.1,
      }),
    ).rejects.toSatisfy((error) => MlscaleError.hasCode(error, 'InvalidSpec'));
  });
});
