import { MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatedBackend, startEmulatedBackend } from './emulated-backend.js';
import { bodyOf, type WireBody } from './wire-body.js';

let backend: EmulatedBackend;
const request = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1, 2], data: [2, 3] }] };

beforeAll(async () => {
  backend = await startEmulatedBackend();
});

afterAll(() => backend.close());

describe('scale and autoscale', () => {
  it('scales through a deployment PATCH of sku.capacity, without a new deployment', async () => {
    const { emulator, client, registerVersion } = backend;
    await registerVersion('scaled');
    await client.deploy({ name: 'scaled-api', model: { name: 'scaled' } });
    const start = emulator.requests.length;
    const status = await client.scale('scaled-api', 3);
    expect(status.replicas).toEqual({ desired: 3, ready: 3 });
    const writes = emulator.requests.slice(start).filter((item) => item.path.includes('/deployments/'));
    const patches = writes.filter((item) => item.method === 'PATCH');
    expect(patches.map((item) => item.path)).toEqual([
      expect.stringMatching(/\/onlineEndpoints\/scaled-api\/deployments\/scaled-v1$/),
    ]);
    expect(patches[0]?.body).toEqual({ sku: { name: 'Default', capacity: 3 } });
    expect(writes.filter((item) => item.method === 'PUT')).toEqual([]);
    const zero = await client.scale('scaled-api', 0).catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(zero, 'InvalidSpec')).toBe(true);
  });

  it('writes an enabled Azure Monitor autoscale setting, reads the policy back and removes it', async () => {
    const { emulator, client, registerVersion } = backend;
    await registerVersion('elastic');
    await client.deploy({ name: 'elastic-api', model: { name: 'elastic' } });
    const start = emulator.requests.length;
    const policy = {
      minReplicas: 1,
      maxReplicas: 4,
      target: { metric: 'cpuUtilization' as const, value: 50 },
      scaleOutCooldownSeconds: 60,
      scaleInCooldownSeconds: 300,
      tolerance: 0.2,
    };
    const status = await client.autoscale('elastic-api', policy);
    expect(status.autoscaling).toEqual({ ...policy, scaleToZeroAfterSeconds: 300 });
    const put = emulator.requests.slice(start).find((item) => item.method === 'PUT');
    expect(put?.path).toMatch(
      /\/resourceGroups\/mlscale-emulator\/providers\/Microsoft\.Insights\/autoscalesettings\/mlscale-elastic-api-elastic-v1$/i,
    );
    expect(put?.apiVersion).toBe('2015-04-01');
    const body = bodyOf(put);
    expect(body.properties.enabled).toBe(true);
    expect(body.properties.targetResourceUri).toMatch(
      /\/onlineEndpoints\/elastic-api\/deployments\/elastic-v1$/,
    );
    expect(body.properties.profiles[0].capacity).toEqual({ minimum: '1', maximum: '4', default: '1' });
    expect(
      body.properties.profiles[0].rules.map((rule: WireBody) => [
        rule.metricTrigger.metricName,
        rule.metricTrigger.operator,
        rule.metricTrigger.threshold,
        rule.scaleAction.direction,
        rule.scaleAction.cooldown,
      ]),
    ).toEqual([
      ['CpuUtilizationPercentage', 'GreaterThan', 60, 'Increase', 'PT60S'],
      ['CpuUtilizationPercentage', 'LessThan', 40, 'Decrease', 'PT300S'],
    ]);
    expect(emulator.inspection.autoscaling('elastic-api')).toEqual({ minReplicas: 1, maxReplicas: 4 });

    // The emulator's Azure Monitor acts on the enabled setting: traffic drives CPU above 60%.
    for (let index = 0; index < 20; index++) await client.predict('elastic-api', request);
    const scaledOut = await client.get('elastic-api');
    expect(scaledOut.replicas.desired).toBe(2);
    // Capacity Azure Monitor set is not drift: the deployment still matches its spec.
    expect(scaledOut.state).toBe('InService');

    const removed = await client.autoscale('elastic-api', null);
    expect(removed.autoscaling).toBeUndefined();
    expect(emulator.inspection.autoscaling('elastic-api')).toBeUndefined();
    expect(
      emulator.requests
        .slice(start)
        .some((item) => item.method === 'DELETE' && /autoscalesettings/i.test(item.path)),
    ).toBe(true);
  });
});
