import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './emulator-harness.js';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
  await harness.client.deploy({ name: 'periods', model: { uri: 's3://mlscale-models/mnist/model.tar.gz' } });
});
afterAll(async () => harness.close());

const target = { deployment: 'periods' };

function sentPeriod(): unknown {
  const queries = harness.emulator.requestsFor('GetMetricData').at(-1)?.input.MetricDataQueries as
    | { MetricStat: { Period: number } }[]
    | undefined;
  return queries?.[0]?.MetricStat.Period;
}

describe('periods CloudWatch can express', () => {
  // GetMetricData takes 1, 5, 10, 20, 30, 60 or a multiple of 60 seconds.
  it.each([
    [7, 5],
    [50, 60],
    [100, 120],
    [20, 20],
    [3600, 3600],
  ])('a metric query of %i s is read in periods of %i s, and the result says so', async (asked, used) => {
    const to = new Date();
    const result = await harness.client.metrics({
      target,
      names: ['invocations'],
      from: new Date(to.getTime() - 4 * used * 1000),
      to,
      periodSeconds: asked,
    });
    expect(result.periodSeconds).toBe(used);
    expect(sentPeriod()).toBe(used);
    const [series] = result.series;
    expect(series!.timestamps.every((time) => time.getTime() % (used * 1000) === 0)).toBe(true);
    expect(series!.timestamps.length).toBeGreaterThanOrEqual(4);
  });

  it('an alert sends the period it rounds to and as many of those periods as forSeconds takes', async () => {
    const { client, emulator } = harness;
    await client.alerts.put({
      name: 'periods-week',
      target,
      metric: 'errors5xx',
      comparator: '>',
      threshold: 1,
      periodSeconds: 3600,
      forSeconds: 7 * 86_400,
    });
    await client.alerts.put({
      name: 'periods-odd',
      target,
      metric: 'errors5xx',
      comparator: '>',
      threshold: 1,
      periodSeconds: 45,
      forSeconds: 180,
    });
    const sent = emulator.requestsFor('PutMetricAlarm').map((request) => request.input);
    expect(sent.map(({ Period, EvaluationPeriods }) => ({ Period, EvaluationPeriods }))).toEqual([
      { Period: 3600, EvaluationPeriods: 168 },
      { Period: 60, EvaluationPeriods: 3 },
    ]);
  });

  // Period × EvaluationPeriods: at most one day below an hour's period, at most a week from there on.
  it.each([
    { periodSeconds: 60, forSeconds: 86_400 + 60, field: 'forSeconds' },
    { periodSeconds: 3600, forSeconds: 7 * 86_400 + 3600, field: 'forSeconds' },
    { periodSeconds: 8 * 86_400, forSeconds: 60, field: 'periodSeconds' },
  ])(
    'an alert of $periodSeconds s periods for $forSeconds s is refused naming $field, before any request',
    async ({ periodSeconds, forSeconds, field }) => {
      const { client, emulator } = harness;
      const before = emulator.requestsFor('PutMetricAlarm').length;
      const rule = {
        name: 'periods-long',
        target,
        metric: 'errors5xx',
        comparator: '>' as const,
        threshold: 1,
        periodSeconds,
        forSeconds,
      };
      const error = await client.alerts.put(rule).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'InvalidSpec', retryable: false });
      expect((error as Error).message).toContain(field);
      expect((error as { issues?: { path: string }[] }).issues?.map((issue) => issue.path)).toEqual([field]);
      expect(emulator.requestsFor('PutMetricAlarm')).toHaveLength(before);
    },
  );
});
