import { type AutoscalingPolicy, autoscalingPolicySchema } from '@mlscale/core';
import { describe, expect, it } from 'vitest';
import { createAutoscaler } from '../src/deployments/autoscaler.js';
import type { ModelVersion } from '../src/deployments/model-version.js';
import { createWindowStats } from '../src/deployments/window-stats.js';

/** A version stand-in: real window statistics on a fake clock, replica counts that follow setReplicas. */
function fakeVersion(clock: { now: number }, ready: number) {
  const stats = createWindowStats(() => clock.now);
  const calls: number[] = [];
  let desired = ready;
  let outstanding = 0;
  const version = {
    stats,
    get readyReplicas() {
      return ready;
    },
    get desiredReplicas() {
      return desired;
    },
    batcher: {
      get outstanding() {
        return outstanding;
      },
    },
    async setReplicas(count: number) {
      calls.push(count);
      desired = count;
      ready = count;
    },
  } as unknown as ModelVersion;
  return { version, calls, setOutstanding: (count: number) => (outstanding = count) };
}

const policy = (
  metric: AutoscalingPolicy['target']['metric'],
  value: number,
  extra: Partial<AutoscalingPolicy> = {},
) =>
  autoscalingPolicySchema.parse({
    minReplicas: 1,
    maxReplicas: 8,
    target: { metric, value },
    scaleInCooldownSeconds: 0,
    scaleOutCooldownSeconds: 0,
    ...extra,
  });

describe('the autoscaler', () => {
  it('scales on requests per second per replica, measured over the interval', async () => {
    const clock = { now: 0 };
    const { version, calls } = fakeVersion(clock, 1);
    const autoscaler = createAutoscaler({
      intervalMs: 20,
      target: () => version,
      log: () => {},
      now: () => clock.now,
    });
    autoscaler.setPolicy(policy('requestsPerSecond', 10, { scaleInCooldownSeconds: 600 }));
    version.stats.take();
    // 40 requests in one second on one replica: 40/s against a target of 10/s → 4 replicas.
    for (let index = 0; index < 40; index++) {
      version.stats.requestStarted();
      version.stats.requestFinished(0.001, false);
    }
    clock.now = 1000;
    autoscaler.start();
    await expect.poll(() => calls.length, { timeout: 5000 }).toBeGreaterThan(0);
    autoscaler.stop();
    expect(calls[0]).toBe(4);
  });

  it('scales on p95 latency and records the decision', async () => {
    const clock = { now: 0 };
    const { version, calls } = fakeVersion(clock, 2);
    const messages: string[] = [];
    const autoscaler = createAutoscaler({
      intervalMs: 20,
      target: () => version,
      log: (message) => messages.push(message),
      now: () => clock.now,
    });
    autoscaler.setPolicy(policy('latencyP95', 50, { scaleInCooldownSeconds: 600 }));
    version.stats.take();
    for (let index = 0; index < 100; index++) {
      version.stats.requestStarted();
      version.stats.requestFinished(index < 90 ? 0.01 : 0.2, false);
    }
    clock.now = 1000;
    autoscaler.start();
    await expect.poll(() => calls.length, { timeout: 5000 }).toBeGreaterThan(0);
    autoscaler.stop();
    // p95 is 200 ms against 50 ms: 2 × 4 = 8 replicas.
    expect(calls[0]).toBe(8);
    expect(autoscaler.lastDecision).toMatchObject({ action: 'scaleOut', from: 2, to: 8 });
    expect(messages[0]).toMatch(/latencyP95 200 vs target 50: 2 → 8/);
  });

  it('scales from zero at once on demand, using the waiting requests as the metric', () => {
    const clock = { now: 0 };
    const { version, calls, setOutstanding } = fakeVersion(clock, 0);
    const autoscaler = createAutoscaler({
      intervalMs: 1000,
      target: () => version,
      log: () => {},
      now: () => clock.now,
    });
    autoscaler.setPolicy(policy('concurrentRequests', 2, { minReplicas: 0 }));
    setOutstanding(5);
    autoscaler.demand();
    expect(calls).toEqual([3]);
  });
});

describe('window statistics', () => {
  it('measures time-weighted concurrency, p95 and errors, then starts a new window', () => {
    const clock = { now: 0 };
    const stats = createWindowStats(() => clock.now);
    stats.requestStarted();
    stats.requestStarted();
    clock.now = 500;
    stats.requestFinished(0.5, false);
    clock.now = 1000;
    stats.requestFinished(1, true);
    const window = stats.take();
    // Two in flight for 500 ms, one for 500 ms: 1.5 on average over one second.
    expect(window.averageConcurrency).toBeCloseTo(1.5);
    expect(window).toMatchObject({ requests: 2, errors: 1, seconds: 1, concurrency: 0, latencyP95Ms: 1000 });
    expect(stats.take()).toMatchObject({ requests: 0, errors: 0, latencyP95Ms: 0 });
    expect(stats.totalRequests).toBe(2);
    expect(stats.totalErrors).toBe(1);
  });
});
