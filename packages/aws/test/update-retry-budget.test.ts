import {
  ApplicationAutoScalingClient,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { createMlscale, type DeploymentStatus, type MlscaleClient, MlscaleError } from '@mlscale/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FaultSpec } from '../src/emulator/index.js';
import { sagemaker } from '../src/index.js';
import { fakeCredentials, type Harness, startHarness } from './emulator-harness.js';

let harness: Harness;
let client: MlscaleClient;
let sageMaker: SageMakerClient;
let autoScaling: ApplicationAutoScalingClient;
/** The client's budget: the one retry layer (the SDK makes one attempt, the adapter none). */
const maxAttempts = 3;

beforeAll(async () => {
  harness = await startHarness();
  // The harness settings name no maxAttempts: the SDK's default in sagemaker() is one attempt.
  expect(harness.settings.maxAttempts).toBeUndefined();
  client = createMlscale({
    backend: sagemaker(harness.settings),
    polling: { minDelayMs: 5, maxDelayMs: 20 },
    retry: { maxAttempts, baseDelayMs: 1, maxDelayMs: 2 },
  });
  const config = {
    region: 'us-east-1',
    endpoint: harness.emulator.url,
    credentials: fakeCredentials,
    maxAttempts: 1,
  };
  sageMaker = new SageMakerClient(config);
  autoScaling = new ApplicationAutoScalingClient(config);
});
afterAll(async () => {
  sageMaker.destroy();
  autoScaling.destroy();
  await client.close();
  await harness.close();
});
afterEach(() => harness.emulator.faults.clear());

const modelUri = 's3://mlscale-models/mnist/model.tar.gz';
const autoscaling = {
  minReplicas: 1,
  maxReplicas: 3,
  target: { metric: 'requestsPerSecond' as const, value: 5 },
};

function countOf(operation: string): number {
  return harness.emulator.calls().filter((call) => call.operation === operation).length;
}

/** What serves, read with the real SDK clients: the endpoint's config, its scalable target and policy. */
async function inForce(name: string) {
  const endpoint = await sageMaker.send(new DescribeEndpointCommand({ EndpointName: name }));
  const resourceId = `endpoint/${name}/variant/AllTraffic`;
  const targets = await autoScaling.send(
    new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker', ResourceIds: [resourceId] }),
  );
  const policies = await autoScaling.send(
    new DescribeScalingPoliciesCommand({ ServiceNamespace: 'sagemaker', ResourceId: resourceId }),
  );
  return {
    status: endpoint.EndpointStatus,
    config: endpoint.EndpointConfigName,
    targets: (targets.ScalableTargets ?? []).map((target) => [target.MinCapacity, target.MaxCapacity]),
    policies: (policies.ScalingPolicies ?? []).map((policy) => [
      policy.PolicyName,
      policy.TargetTrackingScalingPolicyConfiguration?.TargetValue,
    ]),
  };
}

async function deployed(name: string): Promise<DeploymentStatus> {
  const status = await client.deploy({ name, model: { uri: modelUri }, replicas: 1, autoscaling });
  expect(await inForce(name)).toEqual({
    status: 'InService',
    config: status.details?.endpointConfigName,
    targets: [[1, 3]],
    // requestsPerSecond 5 is 300 invocations per instance per minute.
    policies: [['mlscale-target-tracking', 300]],
  });
  return status;
}

describe('an update whose UpdateEndpoint SageMaker keeps failing', () => {
  const faults: [string, FaultSpec, string][] = [
    [
      'answers 500',
      { kind: 'error', operation: 'UpdateEndpoint', count: 1000, status: 500 },
      'BackendFailure',
    ],
    ['is throttled', { kind: 'throttle', operation: 'UpdateEndpoint', count: 1000 }, 'Throttled'],
  ];
  for (const [what, fault, code] of faults) {
    it(`that ${what} every time is sent exactly retry.maxAttempts times, and the old config keeps serving with its autoscaling`, async () => {
      const name = `budget-${code.toLowerCase()}`;
      const first = await deployed(name);
      harness.emulator.faults.add(fault);
      harness.emulator.resetCalls();
      const error = await client
        .update({ name, model: { uri: 's3://mlscale-models/mnist-v2/model.tar.gz' } })
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code, retryable: true });
      expect(countOf('UpdateEndpoint')).toBe(maxAttempts);
      // Nothing touched autoscaling on the way: a model change does not need it lifted.
      for (const operation of ['DeregisterScalableTarget', 'DeleteScalingPolicy', 'RegisterScalableTarget'])
        expect([operation, countOf(operation)]).toEqual([operation, 0]);
      harness.emulator.faults.clear();

      expect(await inForce(name)).toEqual({
        status: 'InService',
        config: first.details?.endpointConfigName,
        targets: [[1, 3]],
        policies: [['mlscale-target-tracking', 300]],
      });
      const status = await client.get(name);
      expect(status.servingSpecHash).toBe(first.specHash);
      expect(status.specHash).not.toBe(first.specHash);
      expect(status.state).toBe('Updating');
      expect(status.stateReason).toContain(`spec ${first.specHash.slice(0, 12)} serves`);
      expect(status.autoscaling).toMatchObject({ minReplicas: 1, maxReplicas: 3 });

      // The desired spec is recorded: a later reconcile, in any process, finishes the update.
      const finished = await client.reconcile(name);
      expect(finished?.state).toBe('InService');
      expect(finished?.servingSpecHash).toBe(status.specHash);
      expect((await inForce(name)).targets).toEqual([[1, 3]]);
      await client.delete(name);
    });
  }

  it('that IAM refuses is sent once: the record goes back to the serving spec with the reason, and the new config goes', async () => {
    const name = 'budget-denied';
    const first = await deployed(name);
    harness.emulator.faults.add({ kind: 'accessDenied', operation: 'UpdateEndpoint', count: 1 });
    harness.emulator.resetCalls();
    const error = await client
      .update({ name, model: { uri: 's3://mlscale-models/mnist-v2/model.tar.gz' } })
      .catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'Unauthorized')).toBe(true);
    expect((error as MlscaleError).retryable).toBe(false);
    expect(countOf('UpdateEndpoint')).toBe(1);
    expect(await inForce(name)).toMatchObject({
      config: first.details?.endpointConfigName,
      targets: [[1, 3]],
    });
    const status = await client.get(name);
    expect(status).toMatchObject({
      state: 'InService',
      specHash: first.specHash,
      servingSpecHash: first.specHash,
    });
    expect(status.stateReason).toMatch(/was refused: .*not authorized to perform: sagemaker:UpdateEndpoint/);
    expect(
      [...harness.emulator.state.endpointConfigs.keys()].filter((config) => config.startsWith(`${name}-`)),
    ).toEqual([first.details?.endpointConfigName]);
    await client.delete(name);
  });
});

describe('autoscaling read back from Application Auto Scaling', () => {
  it('a scalable target removed outside mlscale reads as a difference, and reconcile registers it again', async () => {
    const name = 'drifted';
    const first = await deployed(name);
    await autoScaling.send(
      new DeregisterScalableTargetCommand({
        ServiceNamespace: 'sagemaker',
        ResourceId: `endpoint/${name}/variant/AllTraffic`,
        ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      }),
    );
    const drifted = await client.get(name);
    expect(drifted.state).toBe('Updating');
    expect(drifted.stateReason).toContain('autoscaling is not registered as asked on AllTraffic');
    expect(drifted.autoscaling).toBeUndefined();
    expect(drifted.specHash).toBe(first.specHash);
    const repaired = await client.reconcile(name);
    expect(repaired?.state).toBe('InService');
    expect((await inForce(name)).targets).toEqual([[1, 3]]);
    await client.delete(name);
  });
});
