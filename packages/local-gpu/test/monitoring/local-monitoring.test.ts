import { MlscaleError } from '@mlscale/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalMonitoring, type LocalMonitoring } from '../../src/monitoring/index.js';
import { createFakeClock } from './fake-clock.js';

const opened: LocalMonitoring[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((monitoring) => monitoring.close()));
});

function open(settings: Parameters<typeof createLocalMonitoring>[0]) {
  const monitoring = createLocalMonitoring({ sampleIntervalMs: false, ...settings });
  opened.push(monitoring);
  return monitoring;
}

describe('createLocalMonitoring', () => {
  it('turns recorded requests and sampled gauges into core metric series', async () => {
    const clock = createFakeClock();
    const start = clock.now();
    let replicas = 1;
    let queueDepth = 0;
    let cpu = 10;
    const monitoring = open({
      clock,
      readProcessStats: () => ({ cpuUtilization: cpu, memoryUtilization: 42 }),
    });
    const monitor = monitoring.deployment('demo', {
      gauges: { replicas: () => replicas, queueDepth: () => queueDepth },
    });
    // A synthetic ramp: second s gets s requests at 4 ms, every 10th answers 500, every 7th 400.
    let sent = 0;
    const expected = { invocations: 0, errors4xx: 0, errors5xx: 0 };
    for (let second = 0; second < 30; second++) {
      for (let index = 0; index < second; index++) {
        sent += 1;
        const status = sent % 10 === 0 ? 500 : sent % 7 === 0 ? 400 : 200;
        monitor.recordRequest({
          timeMs: start + second * 1000 + index,
          route: 'POST /v2/models/demo/infer',
          status,
          latencyMs: 4,
          batchSize: 1,
          replica: 0,
        });
        expected.invocations += 1;
        if (status === 500) expected.errors5xx += 1;
        if (status === 400) expected.errors4xx += 1;
      }
      replicas = second < 15 ? 1 : 3;
      queueDepth = second % 5;
      cpu = second < 15 ? 10 : 70;
      clock.set(start + second * 1000 + 999);
      await monitoring.tick();
    }
    const result = await monitoring.doMetrics(
      {
        target: { deployment: 'demo' },
        names: [
          'invocations',
          'errors4xx',
          'errors5xx',
          'latencyP99',
          'replicas',
          'queueDepth',
          'cpuUtilization',
          'memoryUtilization',
          'gpuUtilization',
        ],
        from: new Date(start),
        to: new Date(start + 30_000),
        periodSeconds: 15,
        stat: 'sum',
      },
      {},
    );
    const byName = Object.fromEntries(result.series.map((series) => [series.name, series.values]));
    expect((byName.invocations![0] ?? 0) + (byName.invocations![1] ?? 0)).toBe(expected.invocations);
    expect(byName.invocations).toEqual([105, 330]);
    expect((byName.errors4xx![0] ?? 0) + (byName.errors4xx![1] ?? 0)).toBe(expected.errors4xx);
    expect((byName.errors5xx![0] ?? 0) + (byName.errors5xx![1] ?? 0)).toBe(expected.errors5xx);
    expect(byName.replicas).toEqual([15, 45]);
    expect(result.absent).toEqual([
      { name: 'gpuUtilization', reason: 'no GPU in use: the deployment serves on the CPU' },
    ]);
    const averages = await monitoring.doMetrics(
      {
        target: { deployment: 'demo' },
        names: ['latencyP99', 'replicas', 'queueDepth', 'cpuUtilization', 'memoryUtilization'],
        from: new Date(start),
        to: new Date(start + 30_000),
        periodSeconds: 15,
        stat: 'average',
      },
      {},
    );
    const average = Object.fromEntries(averages.series.map((series) => [series.name, series.values]));
    expect(average.latencyP99![1]).toBe(4);
    // The first bucket's requests all took 4 ms too; the percentile is clamped to the exact min/max.
    expect(average.latencyP99![0]).toBe(4);
    expect(average.replicas).toEqual([1, 3]);
    expect(average.queueDepth).toEqual([2, 2]);
    expect(average.cpuUtilization).toEqual([10, 70]);
    expect(average.memoryUtilization).toEqual([42, 42]);
    expect(averages.series[0]!.unit).toBe('milliseconds');
  });

  it('reports gpuUtilization from the GPU reader, and why it is absent when there is none', async () => {
    const clock = createFakeClock();
    let available = true;
    const monitoring = open({
      clock,
      readProcessStats: () => ({ cpuUtilization: null, memoryUtilization: 1 }),
      readGpu: async () =>
        available
          ? {
              available: true,
              gpus: [
                { index: 0, name: 'A', utilizationPercent: 30, memoryTotalBytes: 1, memoryUsedBytes: 1 },
                { index: 1, name: 'B', utilizationPercent: 90, memoryTotalBytes: 1, memoryUsedBytes: 1 },
              ],
            }
          : { available: false, reason: 'nvidia-smi not found (no NVIDIA driver)' },
    });
    monitoring.deployment('on-gpu', { gauges: { usesGpu: () => true, gpuIndex: () => 1 } });
    monitoring.deployment('on-cpu', { gauges: { usesGpu: () => false } });
    for (let second = 0; second < 3; second++) {
      await monitoring.tick();
      await new Promise((resolve) => setTimeout(resolve, 5));
      clock.advance(1000);
    }
    const query = (deployment: string) =>
      monitoring.doMetrics(
        {
          target: { deployment },
          names: ['gpuUtilization', 'cpuUtilization'],
          from: new Date(clock.now() - 10_000),
          to: new Date(clock.now()),
          periodSeconds: 10,
          stat: 'maximum',
        },
        {},
      );
    const gpu = await query('on-gpu');
    const values = (name: string) =>
      gpu.series.find((series) => series.name === name)?.values.filter((value) => value !== null);
    expect(values('gpuUtilization')).toEqual([90]);
    // The reader never gives a CPU figure here: nothing is recorded, nothing invented.
    expect(values('cpuUtilization')).toEqual([]);
    expect((await query('on-cpu')).absent?.[0]?.reason).toMatch(/serves on the CPU/);
    available = false;
    clock.advance(20_000);
    for (let second = 0; second < 2; second++) {
      await monitoring.tick();
      await new Promise((resolve) => setTimeout(resolve, 5));
      clock.advance(1000);
    }
    expect((await query('on-gpu')).absent).toEqual([
      { name: 'gpuUtilization', reason: 'nvidia-smi not found (no NVIDIA driver)' },
    ]);
  });

  it('samples on its own timer with the real clock and process stats', async () => {
    const monitoring = open({ sampleIntervalMs: 50 });
    const monitor = monitoring.deployment('timed', { gauges: { replicas: () => 2 } });
    const started = Date.now();
    let values: Record<string, (number | null)[]> = {};
    // Bounded: at most 10 s of 50 ms ticks, until a CPU reading (which needs two samples) is there.
    while (Date.now() - started < 10_000) {
      monitor.recordRequest({ route: 'GET /ping', status: 200, latencyMs: 0.2 });
      await new Promise((resolve) => setTimeout(resolve, 60));
      const result = await monitoring.doMetrics(
        {
          target: { deployment: 'timed' },
          names: ['invocations', 'replicas', 'cpuUtilization', 'memoryUtilization'],
          from: new Date(started - 60_000),
          to: new Date(Date.now() + 1000),
          periodSeconds: 3600,
          stat: 'maximum',
        },
        {},
      );
      values = Object.fromEntries(
        result.series.map((series) => [series.name, series.values.filter((value) => value !== null)]),
      );
      if ((values.cpuUtilization?.length ?? 0) > 0) break;
    }
    expect(values.replicas).toEqual([2]);
    expect(values.cpuUtilization![0]!).toBeGreaterThanOrEqual(0);
    expect(values.cpuUtilization![0]!).toBeLessThanOrEqual(100);
    expect(values.memoryUtilization![0]!).toBeGreaterThan(0);
    expect(values.memoryUtilization![0]!).toBeLessThan(100);
    expect(values.invocations![0]!).toBeGreaterThanOrEqual(1);
  });

  it('counts a request stamped far ahead of the clock at the clock time, keeping real seconds visible', async () => {
    const clock = createFakeClock();
    const monitoring = open({ clock });
    const monitor = monitoring.deployment('skewed');
    monitor.recordRequest({
      route: 'GET /ping',
      status: 200,
      latencyMs: 1,
      timeMs: clock.now() + 86_400_000,
    });
    monitor.recordRequest({ route: 'GET /ping', status: 200, latencyMs: 1, timeMs: clock.now() - 500 });
    const result = await monitoring.doMetrics(
      {
        target: { deployment: 'skewed' },
        names: ['invocations'],
        from: new Date(clock.now() - 60_000),
        to: new Date(clock.now() + 1000),
        periodSeconds: 3600,
        stat: 'sum',
      },
      {},
    );
    // One request lands just before 12:00 and one at 12:00: both counted, neither a day ahead.
    expect(result.series[0]!.values).toEqual([1, 1]);
  });

  it('forgets a deleted deployment and stops calling unsubscribed alert listeners', async () => {
    const clock = createFakeClock();
    const monitoring = open({ clock, readProcessStats: () => ({ cpuUtilization: 1, memoryUtilization: 1 }) });
    const monitor = monitoring.deployment('short-lived');
    const heard: string[] = [];
    const unsubscribe = monitoring.onFire((rule) => heard.push(rule.name));
    await monitoring.doPutAlert(
      {
        name: 'any-request',
        target: { deployment: 'short-lived' },
        metric: 'invocations',
        stat: 'sum',
        comparator: '>',
        threshold: 0,
        forSeconds: 0,
        periodSeconds: 1,
      },
      {},
    );
    monitor.recordRequest({ route: 'GET /ping', status: 200, latencyMs: 1 });
    await monitoring.tick();
    expect(heard).toEqual(['any-request']);
    unsubscribe();
    const events: string[] = [];
    monitoring.onAlert((event) => events.push(event.type));
    clock.advance(2000);
    await monitoring.tick();
    monitor.recordRequest({ route: 'GET /ping', status: 200, latencyMs: 1 });
    await monitoring.tick();
    // It resolved and fired again, but the unsubscribed listener heard nothing more.
    expect(events).toEqual(['resolved', 'firing']);
    expect(heard).toEqual(['any-request']);
    expect(monitoring.forgetDeployment('short-lived')).toBe(true);
    expect(monitoring.forgetDeployment('short-lived')).toBe(false);
    await expect(
      monitoring.doMetrics(
        { target: { deployment: 'short-lived' }, names: ['invocations'], periodSeconds: 60, stat: 'sum' },
        {},
      ),
    ).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('validates its settings and answers NotFound for unknown targets', async () => {
    expect(() => createLocalMonitoring({ retentionSeconds: 5 })).toThrow(/retentionSeconds/);
    try {
      createLocalMonitoring({ sampleIntervalMs: false, logCapacity: -1 } as never);
      expect.unreachable();
    } catch (error) {
      expect(MlscaleError.hasCode(error, 'InvalidSpec')).toBe(true);
      expect((error as MlscaleError).issues[0]?.path).toBe('logCapacity');
    }
    const monitoring = open({ deploymentSource: { has: (name) => name === 'known' } });
    expect(() => monitoring.deployment('Not_A_Name')).toThrow(/Invalid deployment name/);
    expect(() =>
      monitoring.deployment('demo', {
        baseline: [{ mean: 0, standardDeviation: 1, binEdges: [0, 1, 2], binFractions: [1] }],
      }),
    ).toThrow(/baseline\[0\]\.binEdges: expected binEdges to have one more value/);
    expect(() => monitoring.deployment('demo', { drift: { windowSeconds: 1 } })).toThrow(
      /drift\.windowSeconds/,
    );
    expect(() => monitoring.deployment('demo', { dataCapture: { samplingPercentage: 150 } })).toThrow(
      /dataCapture\.samplingPercentage/,
    );
    expect(() => monitoring.deployment('demo', { dataCapture: { samplingPercentage: 10 } })).toThrow(
      /root folder/,
    );
    await expect(
      monitoring.doMetrics(
        { target: { deployment: 'missing' }, names: ['invocations'], periodSeconds: 60, stat: 'sum' },
        {},
      ),
    ).rejects.toMatchObject({ code: 'NotFound', provider: 'local' });
    const known = await monitoring.doMetrics(
      { target: { deployment: 'known' }, names: ['invocations'], periodSeconds: 600, stat: 'sum' },
      {},
    );
    expect(known.series[0]!.values.every((value) => value === null)).toBe(true);
    await expect(
      monitoring.doMetrics(
        { target: { job: 'train' }, names: ['loss'], periodSeconds: 60, stat: 'average' },
        {},
      ),
    ).rejects.toMatchObject({ code: 'Unsupported' });
    await expect(
      monitoring.doPutAlert(
        {
          name: 'x-alert',
          target: { deployment: 'missing' },
          metric: 'errors5xx',
          stat: 'sum',
          comparator: '>',
          threshold: 1,
          forSeconds: 0,
          periodSeconds: 60,
        },
        {},
      ),
    ).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('delegates job logs and metrics to the job source', async () => {
    const monitoring = open({
      jobSource: {
        has: (name) => name === 'train-one',
        async *logs(name, query) {
          yield {
            time: new Date(0),
            source: 'rank-0',
            message: `epoch 1 of ${name}`,
            fields: { follow: query.follow },
          };
        },
        async metrics(query) {
          return {
            periodSeconds: query.periodSeconds,
            series: [
              { name: 'loss', stat: query.stat, unit: 'none', timestamps: [new Date(0)], values: [0.5] },
            ],
          };
        },
      },
    });
    const entries = [];
    for await (const entry of monitoring.doLogs({ job: 'train-one' }, { follow: false }, {}))
      entries.push(entry);
    expect(entries.map((entry) => entry.message)).toEqual(['epoch 1 of train-one']);
    const metrics = await monitoring.doMetrics(
      { target: { job: 'train-one' }, names: ['loss'], periodSeconds: 60, stat: 'average' },
      {},
    );
    expect(metrics.series[0]!.values).toEqual([0.5]);
    await expect(
      (async () => {
        for await (const entry of monitoring.doLogs({ job: 'other' }, { follow: false }, {})) void entry;
      })(),
    ).rejects.toThrow(/no job named "other"/);
  });
});
