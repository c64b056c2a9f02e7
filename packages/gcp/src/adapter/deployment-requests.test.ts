import { deploymentSpecSchema, MlscaleError } from '@mlscale/core';
import { describe, expect, it } from 'vitest';
import {
  acceleratorType,
  autoscalingMetricSpecs,
  checkDeploymentSpec,
  dedicatedResources,
  integerPercentages,
  replicaBounds,
} from './deployment-requests.js';
import { resolveSettings } from './settings.js';

const settings = resolveSettings({ project: 'p', location: 'europe-west4' }, {});
const spec = (input: Record<string, unknown>) =>
  deploymentSpecSchema.parse({ name: 'demo', model: { uri: 'gs://b/m/' }, ...input });

describe('deployment requests', () => {
  it('splits weights into integer percentages that sum to 100', () => {
    expect(integerPercentages([1, 1, 1])).toEqual([34, 33, 33]);
    expect(integerPercentages([90, 10])).toEqual([90, 10]);
    expect(integerPercentages([0.5, 99.5])).toEqual([1, 99]);
    expect(integerPercentages([0, 0])).toEqual([100, 0]);
  });

  it('maps target tracking to Vertex autoscaling metric specs', () => {
    const policy = (metric: string, value: number) =>
      deploymentSpecSchema.parse({
        name: 'demo',
        model: { uri: 'gs://b/m/' },
        replicas: 1,
        autoscaling: { minReplicas: 1, maxReplicas: 2, target: { metric, value } },
      }).autoscaling!;
    expect(autoscalingMetricSpecs(policy('cpuUtilization', 65.4))).toEqual([
      { metricName: 'aiplatform.googleapis.com/prediction/online/cpu/utilization', target: 65 },
    ]);
    expect(autoscalingMetricSpecs(policy('requestsPerSecond', 2.5))).toEqual([
      { metricName: 'aiplatform.googleapis.com/prediction/online/request_count', target: 150 },
    ]);
    expect(() => autoscalingMetricSpecs(policy('concurrentRequests', 4))).toThrow(/concurrentRequests/);
    expect(() => autoscalingMetricSpecs(policy('gpuUtilization', 120))).toThrow(/percentage/);
  });

  it('keeps at least one replica, as Vertex v1 requires', () => {
    expect(replicaBounds(3, undefined)).toEqual({ min: 3, max: 3 });
    expect(() => replicaBounds(0, undefined)).toThrow(/at least 1/);
  });

  it('builds the machine spec from the instance and the settings defaults', () => {
    expect(
      dedicatedResources(spec({ instance: { accelerator: { type: 'gpu', count: 2 } } }), settings)
        .machineSpec,
    ).toEqual({
      machineType: 'n1-standard-4',
      acceleratorType: 'NVIDIA_TESLA_T4',
      acceleratorCount: 2,
    });
    expect(acceleratorType('nvidia-h100-80gb', settings)).toBe('NVIDIA_H100_80GB');
    expect(() => acceleratorType('nvidia/t4!', settings)).toThrow(MlscaleError);
  });

  it('rejects what Vertex cannot express, naming the field', () => {
    const error = (input: Record<string, unknown>) => {
      try {
        checkDeploymentSpec(spec(input), settings);
      } catch (caught) {
        return caught as MlscaleError;
      }
      return undefined;
    };
    expect(error({ network: { private: true } })?.issues[0]?.path).toBe('providerOptions.gcp.network');
    expect(error({ network: { subnets: ['subnet-1'] } })?.issues[0]?.path).toBe('network');
    expect(error({ providerOptions: { gcp: { spot: 'yes' } } })?.code).toBe('InvalidSpec');
    expect(
      error({
        network: { private: true },
        providerOptions: { gcp: { network: 'projects/1/global/networks/vpc' } },
      }),
    ).toBeUndefined();
  });
});
