import type { OnlineDeployment } from '@azure/arm-machinelearning';
import { sealSecrets, secretHashKey } from '@mlscale/core';
import { describe, expect, it } from 'vitest';
import { configDifference } from './deployment-config.js';

const key = secretHashKey('config-api');
const deployment = (properties: Record<string, unknown>): OnlineDeployment =>
  ({
    properties: {
      endpointComputeType: 'Managed',
      model: 'm',
      environmentId: 'e',
      instanceType: 'Standard_DS3_v2',
      ...properties,
    },
  }) as OnlineDeployment;

describe('configDifference', () => {
  it('takes the request settings the SDK fills in by default as matching a body without them', () => {
    const running = deployment({
      requestSettings: {
        requestTimeout: 'PT5S',
        maxQueueWait: 'PT0.5S',
        maxConcurrentRequestsPerInstance: 1,
      },
      appInsightsEnabled: false,
    });
    expect(configDifference(running, deployment({ requestSettings: {} }), key)).toBeUndefined();
    expect(configDifference(running, deployment({ requestSettings: { requestTimeout: 'PT9S' } }), key)).toBe(
      'its request settings differ',
    );
  });

  it('compares environment variables sealed: a value matches its seal, a changed secret does not', () => {
    const running = deployment({ environmentVariables: { API_TOKEN: 'sk-one', LOG_LEVEL: 'info' } });
    const sealed = sealSecrets({ API_TOKEN: 'sk-one', LOG_LEVEL: 'info' }, key).sealed;
    expect(configDifference(running, deployment({ environmentVariables: sealed }), key)).toBeUndefined();
    const rotated = sealSecrets({ API_TOKEN: 'sk-two', LOG_LEVEL: 'info' }, key).sealed;
    expect(configDifference(running, deployment({ environmentVariables: rotated }), key)).toBe(
      'its environment variables differ',
    );
    expect(configDifference(running, deployment({ instanceType: 'Standard_F4s_v2' }), key)).toMatch(/F4s_v2/);
  });
});
