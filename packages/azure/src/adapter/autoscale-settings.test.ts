import { type AutoscalingMetric, autoscalingPolicySchema } from '@mlscale/core';
import { describe, expect, it } from 'vitest';
import { autoscaleSettingFor, policyFromSetting } from './autoscale-settings.js';

const ids = {
  endpointId:
    '/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/workspaces/w/onlineEndpoints/e',
  deploymentId:
    '/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/workspaces/w/onlineEndpoints/e/deployments/d',
  deploymentName: 'd',
  location: 'eastus',
};

describe('autoscale settings', () => {
  for (const metric of [
    'cpuUtilization',
    'gpuUtilization',
    'requestsPerSecond',
    'latencyP95',
    'concurrentRequests',
  ] as AutoscalingMetric[]) {
    it(`round-trips a ${metric} policy`, () => {
      const policy = autoscalingPolicySchema.parse({
        minReplicas: 2,
        maxReplicas: 9,
        target: { metric, value: 12.5 },
        scaleInCooldownSeconds: 600,
        scaleOutCooldownSeconds: 90,
        tolerance: 0.15,
      });
      const setting = autoscaleSettingFor({ policy, ...ids, currentReplicas: 1 });
      expect(setting.enabled).toBe(true);
      expect(setting.profiles[0]?.capacity).toEqual({ minimum: '2', maximum: '9', default: '2' });
      expect(policyFromSetting(setting)).toEqual(policy);
    });
  }

  it('divides request rates per instance and scopes endpoint metrics to the deployment', () => {
    const policy = autoscalingPolicySchema.parse({
      minReplicas: 1,
      maxReplicas: 3,
      target: { metric: 'requestsPerSecond', value: 10 },
    });
    const rule = autoscaleSettingFor({ policy, ...ids, currentReplicas: 5 }).profiles[0]?.rules[0];
    expect(rule?.metricTrigger).toMatchObject({
      metricName: 'RequestsPerMinute',
      metricResourceUri: ids.endpointId,
      dividePerInstance: true,
      threshold: 660,
      dimensions: [{ dimensionName: 'deployment', operator: 'Equals', values: ['d'] }],
    });
  });

  it('keeps cooldowns at Azure Monitor’s one-minute floor and ignores a disabled setting', () => {
    const policy = autoscalingPolicySchema.parse({
      minReplicas: 1,
      maxReplicas: 3,
      target: { metric: 'cpuUtilization', value: 70 },
      scaleOutCooldownSeconds: 5,
    });
    const setting = autoscaleSettingFor({ policy, ...ids, currentReplicas: 1 });
    expect(setting.profiles[0]?.rules[0]?.scaleAction.cooldown).toBe('PT60S');
    expect(policyFromSetting({ ...setting, enabled: false })).toBeUndefined();
  });
});
