import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMlscale, MlscaleError } from '@mlscale/core';
import { createInMemoryBackend } from '@mlscale/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGpuStats } from '../../src/gpu/nvidia-smi.js';
import { createLocalMonitoring } from '../../src/monitoring/index.js';
import { createFakeClock } from './fake-clock.js';

let directory = '';
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'mlscale-monitoring-client-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('through the mlscale client', () => {
  it('serves metrics, logs and alerts as core MonitoringOperationsV1', async () => {
    const monitoring = createLocalMonitoring({ sampleIntervalMs: false });
    const client = createMlscale({
      backend: { ...createInMemoryBackend({ provider: 'local' }), monitoring },
      retry: false,
    });
    try {
      const monitor = monitoring.deployment('demo');
      for (let index = 0; index < 5; index++)
        monitor.recordRequest({ route: 'POST /invocations', status: 200, latencyMs: 2 });
      await monitoring.tick();
      const result = await client.metrics({
        target: { deployment: 'demo' },
        names: ['invocations'],
        periodSeconds: 3600,
        stat: 'sum',
      });
      expect(result.series[0]!.values.reduce<number>((total, value) => total + (value ?? 0), 0)).toBe(5);
      await expect(
        client.metrics({ target: { deployment: 'demo' }, names: ['not a name!'], periodSeconds: 0 }),
      ).rejects.toSatisfy(
        (error) => MlscaleError.hasCode(error, 'InvalidSpec') && /names\[0\]/.test((error as Error).message),
      );
      const status = await client.alerts.put({
        name: 'slow',
        target: { deployment: 'demo' },
        metric: 'latencyP99',
        comparator: '>',
        threshold: 100,
      });
      expect(status).toMatchObject({
        state: 'ok',
        rule: { stat: 'average', forSeconds: 60, periodSeconds: 60 },
      });
      expect((await client.alerts.list()).map((alert) => alert.rule.name)).toEqual(['slow']);
      expect(await client.alerts.delete('slow')).toEqual({ deleted: true });
      expect(await client.alerts.delete('slow')).toEqual({ deleted: false });
      const entries = [];
      for await (const entry of client.logs({ deployment: 'demo' }, { limit: 3 })) entries.push(entry);
      expect(entries).toHaveLength(3);
      expect(entries[0]!.fields).toMatchObject({ route: 'POST /invocations', status: 200 });
    } finally {
      await client.close();
      await monitoring.close();
    }
  });
});

describe('GPU readings through nvidia-smi', () => {
  it('reads a real nvidia-smi process output (a stand-in script on this GPU-less machine)', async () => {
    const script = join(directory, 'nvidia-smi');
    await writeFile(script, '#!/bin/sh\necho "0, Stand-in GPU, 37, 8192, 1024"\n');
    await chmod(script, 0o755);
    const clock = createFakeClock();
    const monitoring = createLocalMonitoring({
      clock,
      sampleIntervalMs: false,
      readProcessStats: () => ({ cpuUtilization: 1, memoryUtilization: 1 }),
      readGpu: () => readGpuStats(script),
    });
    try {
      monitoring.deployment('demo', { gauges: { usesGpu: () => true } });
      const deadline = Date.now() + 10_000;
      let values: (number | null)[] = [];
      // The reading arrives in the background; tick until it is recorded (bounded).
      while (Date.now() < deadline) {
        await monitoring.tick();
        const result = await monitoring.doMetrics(
          {
            target: { deployment: 'demo' },
            names: ['gpuUtilization'],
            from: new Date(clock.now() - 60_000),
            to: new Date(clock.now() + 1000),
            periodSeconds: 60,
            stat: 'average',
          },
          {},
        );
        values = result.series[0]?.values ?? [];
        if (values.some((value) => value !== null)) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
        clock.advance(1000);
      }
      expect(values.filter((value) => value !== null)).toEqual([37]);
      // And on this machine, without the stand-in, absence is reported with nvidia-smi's reason.
      const missing = await readGpuStats(join(directory, 'no-such-nvidia-smi'));
      expect(missing).toEqual({ available: false, reason: 'nvidia-smi not found (no NVIDIA driver)' });
    } finally {
      await monitoring.close();
    }
  });
});

describe('a long simulated uptime', () => {
  it('keeps memory fixed: one day of traffic and ticks through createLocalMonitoring', async () => {
    const clock = createFakeClock();
    const monitoring = createLocalMonitoring({
      clock,
      sampleIntervalMs: false,
      retentionSeconds: 120,
      logCapacity: 100,
      readProcessStats: () => ({ cpuUtilization: 3, memoryUtilization: 4 }),
    });
    try {
      const monitor = monitoring.deployment('demo', { gauges: { replicas: () => 2, queueDepth: () => 1 } });
      let sizeAfterWarmUp = 0;
      const day = 86_400;
      for (let second = 0; second < day; second++) {
        monitor.recordRequest({
          route: 'POST /invocations',
          status: second % 100 === 0 ? 500 : 200,
          latencyMs: 3,
        });
        await monitoring.tick();
        clock.advance(1000);
        if (second === 300) sizeAfterWarmUp = monitoring.store.sizeBytes();
      }
      expect(monitoring.store.sizeBytes()).toBe(sizeAfterWarmUp);
      // 120 s × (3 counters + 4 gauges) × 40 B + the latency histograms: about 200 KiB, whatever the uptime.
      expect(sizeAfterWarmUp).toBeLessThan(300 * 1024);
      const lastMinutes = await monitoring.doMetrics(
        {
          target: { deployment: 'demo' },
          names: ['invocations', 'errors5xx'],
          from: new Date(clock.now() - 100_000),
          to: new Date(clock.now()),
          periodSeconds: 100,
          stat: 'sum',
        },
        {},
      );
      expect(
        lastMinutes.series.map((series) =>
          series.values.reduce<number>((total, value) => total + (value ?? 0), 0),
        ),
      ).toEqual([100, 1]);
      const logs = [];
      for await (const entry of monitoring.doLogs({ deployment: 'demo' }, { follow: false }, {}))
        logs.push(entry);
      expect(logs).toHaveLength(100);
    } finally {
      await monitoring.close();
    }
  });
});
