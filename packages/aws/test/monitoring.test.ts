import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './emulator-harness.js';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
  await harness.client.deploy({ name: 'watched', model: { uri: 's3://mlscale-models/mnist/model.tar.gz' } });
});
afterAll(async () => harness.close());

const request = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1, 2], data: [1, 2] }] };

describe('monitoring through CloudWatch', () => {
  it('reads invocations, error rates and latency percentiles as aligned series, and says what SageMaker lacks', async () => {
    const { client, emulator } = harness;
    const from = new Date(Date.now() - 60_000);
    for (let index = 0; index < 5; index++) await client.predict('watched', request);
    // A malformed body makes the model answer 400: SageMaker counts it as a 4XX invocation.
    await expect(
      client.predict('watched', {
        inputs: [{ name: 'x', datatype: 'BYTES', shape: [1], data: ['not a number'] }],
      }),
    ).rejects.toMatchObject({
      code: 'BackendFailure',
      statusCode: 424,
    });
    const result = await client.metrics({
      target: { deployment: 'watched' },
      names: ['invocations', 'errors4xx', 'latencyP99', 'cpuUtilization', 'replicas', 'drift'],
      from,
      to: new Date(Date.now() + 60_000),
      periodSeconds: 60,
    });
    expect(result.periodSeconds).toBe(60);
    const byName = Object.fromEntries(result.series.map((series) => [series.name, series]));
    const total = (name: string) =>
      byName[name]!.values.reduce<number>((sum, value) => sum + (value ?? 0), 0);
    expect(total('invocations')).toBe(6);
    expect(byName.invocations!.stat).toBe('sum');
    // The average of SageMaker's 0/1 error datapoints is the error rate: 1 in 6.
    const rates = byName.errors4xx!.values.filter((value): value is number => value !== null);
    expect(rates.reduce((sum, value) => sum + value, 0) / rates.length).toBeGreaterThan(0);
    expect(byName.latencyP99!.unit).toBe('Milliseconds');
    expect(byName.latencyP99!.values.some((value) => value !== null && value > 0)).toBe(true);
    for (const series of result.series) {
      expect(series.timestamps).toHaveLength(byName.invocations!.timestamps.length);
      expect(series.timestamps.every((time) => time.getTime() % 60_000 === 0)).toBe(true);
    }
    expect(result.absent?.map((entry) => entry.name)).toEqual(['replicas', 'drift']);
    const query = emulator.requestsFor('GetMetricData').at(-1)?.input.MetricDataQueries as Record<
      string,
      unknown
    >[];
    expect(query[0]).toEqual({
      Id: 'm0v0',
      MetricStat: {
        Metric: {
          Namespace: 'AWS/SageMaker',
          MetricName: 'Invocations',
          Dimensions: [
            { Name: 'EndpointName', Value: 'watched' },
            { Name: 'VariantName', Value: 'AllTraffic' },
          ],
        },
        Period: 60,
        Stat: 'Sum',
      },
      ReturnData: true,
    });
  });

  it('reads an endpoint’s logs, filtered and limited', async () => {
    const { client } = harness;
    const all = [];
    for await (const entry of client.logs({ deployment: 'watched' })) all.push(entry);
    expect(all.some((entry) => entry.message.startsWith('Starting model server'))).toBe(true);
    expect(all.every((entry) => entry.source === 'AllTraffic')).toBe(true);
    const failures = [];
    for await (const entry of client.logs(
      { deployment: 'watched' },
      { filter: 'POST /invocations 400', limit: 5 },
    ))
      failures.push(entry);
    expect(failures).toHaveLength(1);
  });

  it('follows an endpoint’s logs until the signal aborts, then ends quietly', async () => {
    const { client } = harness;
    const controller = new AbortController();
    const since = new Date();
    const seen: string[] = [];
    const following = (async () => {
      for await (const entry of client.logs(
        { deployment: 'watched' },
        { follow: true, since, signal: controller.signal },
      )) {
        seen.push(entry.message);
        if (seen.length === 2) controller.abort();
      }
    })();
    await client.predict('watched', request);
    await client.predict('watched', request);
    await following;
    expect(seen).toEqual([
      expect.stringMatching(/^POST \/invocations 200 /),
      expect.stringMatching(/^POST \/invocations 200 /),
    ]);
  });

  it('keeps alerts as CloudWatch alarms: put, list with state, delete', async () => {
    const { client, emulator } = harness;
    const put = await client.alerts.put({
      name: 'slow-watched',
      target: { deployment: 'watched' },
      metric: 'latencyP99',
      comparator: '>',
      threshold: 250,
      forSeconds: 180,
      periodSeconds: 60,
    });
    expect(put.rule.name).toBe('slow-watched');
    const alarm = emulator.requestsFor('PutMetricAlarm').at(-1)?.input;
    expect(alarm).toMatchObject({
      AlarmName: 'mlscale-alert-slow-watched',
      Namespace: 'AWS/SageMaker',
      MetricName: 'ModelLatency',
      ExtendedStatistic: 'p99',
      Period: 60,
      EvaluationPeriods: 3,
      // 250 ms in SageMaker's microseconds.
      Threshold: 250_000,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    await client.alerts.put({
      name: 'errors-watched',
      target: { deployment: 'watched' },
      metric: 'errors4xx',
      comparator: '>=',
      threshold: 0.1,
      forSeconds: 60,
    });
    const listed = await client.alerts.list();
    expect(listed.map((alert) => alert.rule.name).sort()).toEqual(['errors-watched', 'slow-watched']);
    // The earlier 400 put the error rate over 10%: CloudWatch evaluates the alarm as firing.
    expect(listed.find((alert) => alert.rule.name === 'errors-watched')?.state).toBe('firing');
    expect(listed.find((alert) => alert.rule.name === 'slow-watched')?.state).toBe('ok');
    await expect(
      client.alerts.put({
        name: 'hook',
        target: { deployment: 'watched' },
        metric: 'errors5xx',
        comparator: '>',
        threshold: 1,
        webhookUrl: 'https://hooks.example.com/x',
      }),
    ).rejects.toMatchObject({
      code: 'Unsupported',
    });
    expect(await client.alerts.delete('slow-watched')).toEqual({ deleted: true });
    expect(await client.alerts.delete('slow-watched')).toEqual({ deleted: false });
  });
});
