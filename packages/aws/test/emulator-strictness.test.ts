import {
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import {
  GetMetricDataCommand,
  type MetricDataQuery,
  PutMetricAlarmCommand,
  type PutMetricAlarmCommandInput,
} from '@aws-sdk/client-cloudwatch';
import {
  CreateEndpointCommand,
  CreateTrainingJobCommand,
  type CreateTrainingJobCommandInput,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  type DeploymentConfig,
  DescribeEndpointCommand,
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListModelsCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
} from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEndpoint,
  createEndpointConfig,
  type EmulatorWithClients,
  refusal,
  startEmulatorWithClients,
  testRoleArn,
  waitForStatus,
} from '../src/emulator/sdk-clients-for-tests.js';

// The emulator refuses what AWS refuses, with AWS's error name, so the adapter's tests catch wrong
// translations. Each refusal is paired with the boundary value AWS still accepts.

let clients: EmulatorWithClients;
beforeAll(async () => {
  clients = await startEmulatorWithClients();
});
afterAll(async () => clients.close());

describe('CloudWatch GetMetricData', () => {
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  const query = (id: string, period: number): MetricDataQuery => ({
    Id: id,
    MetricStat: {
      Metric: { Namespace: 'AWS/SageMaker', MetricName: 'Invocations' },
      Period: period,
      Stat: 'Sum',
    },
  });
  const getMetricData = (queries: MetricDataQuery[], start = now - 3_600_000, end = now) =>
    clients.cloudWatch.send(
      new GetMetricDataCommand({
        MetricDataQueries: queries,
        StartTime: new Date(start),
        EndTime: new Date(end),
      }),
    );

  it('accepts the periods CloudWatch documents: 1, 5, 10, 20, 30, 60 and multiples of 60', async () => {
    const periods = [1, 5, 10, 20, 30, 60, 120, 3600];
    const answer = await getMetricData(periods.map((period, index) => query(`q${index}`, period)));
    expect(answer.MetricDataResults?.map((result) => result.StatusCode)).toEqual(
      periods.map(() => 'Complete'),
    );
  });

  it.each([2, 15, 45, 90])('refuses a period of %i seconds', async (period) => {
    const error = await refusal(getMetricData([query('ok', 60), query('bad', period)]));
    expect(error).toMatchObject({ name: 'InvalidParameterValueException', Code: 'InvalidParameterValue' });
    expect(error?.message).toContain(
      `The value ${period} for parameter MetricDataQueries.member.2.MetricStat.Period`,
    );
  });

  it('takes 500 queries and refuses 501', async () => {
    const queries = Array.from({ length: 501 }, (_, index) => query(`q${index}`, 60));
    expect((await getMetricData(queries.slice(0, 500))).MetricDataResults).toHaveLength(500);
    const error = await refusal(getMetricData(queries));
    expect(error).toMatchObject({ name: 'InvalidParameterValueException' });
    expect(error?.message).toContain('at most 500 queries');
  });

  it('refuses a StartTime that is not before EndTime', async () => {
    const equal = await refusal(getMetricData([query('q', 60)], now, now));
    // CloudWatch's query code ValidationError is modelled as ValidationException in the SDK.
    expect(equal).toMatchObject({
      name: 'ValidationException',
      Code: 'ValidationError',
      message: 'The parameter StartTime must not equal parameter EndTime.',
      $metadata: { httpStatusCode: 400 },
    });
    const reversed = await refusal(getMetricData([query('q', 60)], now, now - 60_000));
    expect(reversed).toMatchObject({
      name: 'ValidationException',
      Code: 'ValidationError',
      message: 'The parameter StartTime must be less than the parameter EndTime.',
    });
  });
});

describe('CloudWatch PutMetricAlarm', () => {
  const alarm = (name: string, period: number, evaluationPeriods = 1): PutMetricAlarmCommandInput => ({
    AlarmName: name,
    Namespace: 'AWS/SageMaker',
    MetricName: 'Invocation5XXErrors',
    Statistic: 'Average',
    Period: period,
    EvaluationPeriods: evaluationPeriods,
    Threshold: 0.05,
    ComparisonOperator: 'GreaterThanThreshold',
  });

  it('accepts periods of 10, 20, 30 and multiples of 60 and refuses others, 5 included', async () => {
    for (const period of [10, 20, 30, 60, 300]) {
      await clients.cloudWatch.send(new PutMetricAlarmCommand(alarm(`period-${period}`, period)));
    }
    for (const period of [5, 45, 100]) {
      const error = await refusal(
        clients.cloudWatch.send(new PutMetricAlarmCommand(alarm(`bad-${period}`, period))),
      );
      expect(error).toMatchObject({ name: 'InvalidParameterValueException' });
      expect(error?.message).toContain(`The value ${period} for parameter Period is not valid`);
    }
  });

  it('bounds the evaluation window: one day below an hour’s period, seven days from an hour', async () => {
    await clients.cloudWatch.send(new PutMetricAlarmCommand(alarm('day', 60, 1440)));
    const overDay = await refusal(
      clients.cloudWatch.send(new PutMetricAlarmCommand(alarm('over-day', 60, 1441))),
    );
    expect(overDay).toMatchObject({ name: 'InvalidParameterCombinationException' });
    expect(overDay?.message).toContain('must not be longer than 86400 seconds');
    await clients.cloudWatch.send(new PutMetricAlarmCommand(alarm('week', 3600, 168)));
    const overWeek = await refusal(
      clients.cloudWatch.send(new PutMetricAlarmCommand(alarm('over-week', 3600, 169))),
    );
    expect(overWeek?.message).toContain('must not be longer than 604800 seconds');
  });
});

describe('SageMaker UpdateEndpoint DeploymentConfig', () => {
  // A fleet of 4 instances, so instance-count step sizes have a percentage to be judged by.
  const alarmNames = Array.from({ length: 11 }, (_, index) => `rollback-${index + 1}`);
  beforeAll(async () => {
    await createEndpointConfig(clients, 'blue', [{ VariantName: 'AllTraffic', InitialInstanceCount: 4 }]);
    await createEndpointConfig(clients, 'green', [{ VariantName: 'AllTraffic', InitialInstanceCount: 4 }]);
    await createEndpoint(clients, 'fleet', 'blue');
    for (const AlarmName of alarmNames) {
      await clients.cloudWatch.send(
        new PutMetricAlarmCommand({
          AlarmName,
          Namespace: 'AWS/SageMaker',
          MetricName: 'Invocation5XXErrors',
          Statistic: 'Average',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 0.05,
          ComparisonOperator: 'GreaterThanThreshold',
        }),
      );
    }
  });

  const update = (DeploymentConfig: DeploymentConfig) =>
    clients.sageMaker.send(
      new UpdateEndpointCommand({ EndpointName: 'fleet', EndpointConfigName: 'green', DeploymentConfig }),
    );
  /** An update SageMaker accepts: it starts, and the endpoint settles back InService. */
  async function accepted(config: DeploymentConfig): Promise<void> {
    await update(config);
    await waitForStatus(clients, 'fleet', 'InService');
  }
  async function refused(config: DeploymentConfig, message: string): Promise<void> {
    const error = await refusal(update(config));
    expect(error).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    expect(error?.message).toContain(message);
    // Refused before anything changed.
    expect(
      (await clients.sageMaker.send(new DescribeEndpointCommand({ EndpointName: 'fleet' }))).EndpointStatus,
    ).toBe('InService');
  }
  // Untyped on purpose: the SDK sends values outside its own enums, as a wrong translation would.
  const routing = (configuration: Record<string, unknown>, policy: Record<string, unknown> = {}) =>
    ({
      BlueGreenUpdatePolicy: { TrafficRoutingConfiguration: configuration, ...policy },
    }) as unknown as DeploymentConfig;

  it('refuses a routing type other than ALL_AT_ONCE, CANARY or LINEAR, and a missing wait', async () => {
    await refused(
      routing({ Type: 'BLUE_GREEN', WaitIntervalInSeconds: 0 }),
      "at 'deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.type' failed to satisfy constraint: Member must satisfy enum value set: [ALL_AT_ONCE, CANARY, LINEAR]",
    );
    await refused(
      routing({ Type: 'ALL_AT_ONCE' }),
      "Value null at 'deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.waitIntervalInSeconds' failed to satisfy constraint: Member must not be null",
    );
  });

  it('bounds WaitIntervalInSeconds and TerminationWaitInSeconds to 0–3600', async () => {
    await accepted(
      routing({ Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }, { TerminationWaitInSeconds: 0 }),
    );
    await accepted(
      routing({ Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 3600 }, { TerminationWaitInSeconds: 3600 }),
    );
    await refused(
      routing({ Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 3601 }),
      "Value '3601' at 'deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.waitIntervalInSeconds' failed to satisfy constraint: Member must have value less than or equal to 3600",
    );
    await refused(
      routing({ Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }, { TerminationWaitInSeconds: 3601 }),
      "Value '3601' at 'deploymentConfig.blueGreenUpdatePolicy.terminationWaitInSeconds' failed to satisfy constraint: Member must have value less than or equal to 3600",
    );
  });

  it('bounds MaximumExecutionTimeoutInSeconds to 600–28800, as the API reference says', async () => {
    await accepted(
      routing({ Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }, { MaximumExecutionTimeoutInSeconds: 600 }),
    );
    await accepted(
      routing(
        { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 },
        { MaximumExecutionTimeoutInSeconds: 28_800 },
      ),
    );
    await refused(
      routing({ Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }, { MaximumExecutionTimeoutInSeconds: 599 }),
      'Member must have value greater than or equal to 600',
    );
    await refused(
      routing(
        { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 },
        { MaximumExecutionTimeoutInSeconds: 28_801 },
      ),
      'Member must have value less than or equal to 28800',
    );
  });

  it('refuses a canary of more than half the fleet, by percent or by instance count', async () => {
    const canary = (Type: string, Value: number) =>
      routing({ Type: 'CANARY', WaitIntervalInSeconds: 0, CanarySize: { Type, Value } });
    await accepted(canary('CAPACITY_PERCENT', 50));
    await accepted(canary('INSTANCE_COUNT', 2));
    await refused(canary('CAPACITY_PERCENT', 51), 'the canary must be at most 50% of the variant');
    await refused(canary('INSTANCE_COUNT', 3), "75% of production variant AllTraffic's 4 instance(s)");
    await refused(routing({ Type: 'CANARY', WaitIntervalInSeconds: 0 }), 'CanarySize must be specified');
  });

  it('keeps each linear step between 10% and 50% of the fleet', async () => {
    const linear = (Type: string, Value: number) =>
      routing({ Type: 'LINEAR', WaitIntervalInSeconds: 0, LinearStepSize: { Type, Value } });
    await accepted(linear('CAPACITY_PERCENT', 10));
    await accepted(linear('CAPACITY_PERCENT', 50));
    await accepted(linear('INSTANCE_COUNT', 1));
    await refused(linear('CAPACITY_PERCENT', 9), 'each linear step must be 10-50%');
    await refused(linear('CAPACITY_PERCENT', 51), 'each linear step must be 10-50%');
    await refused(linear('INSTANCE_COUNT', 3), "75% of production variant AllTraffic's 4 instance(s)");
    await refused(routing({ Type: 'LINEAR', WaitIntervalInSeconds: 0 }), 'LinearStepSize must be specified');
  });

  it('refuses a CapacitySize of another type or below 1', async () => {
    await refused(
      routing({ Type: 'CANARY', WaitIntervalInSeconds: 0, CanarySize: { Type: 'PERCENT', Value: 10 } }),
      "at 'deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.canarySize.type' failed to satisfy constraint: Member must satisfy enum value set: [INSTANCE_COUNT, CAPACITY_PERCENT]",
    );
    await refused(
      routing({
        Type: 'LINEAR',
        WaitIntervalInSeconds: 0,
        LinearStepSize: { Type: 'INSTANCE_COUNT', Value: 0 },
      }),
      "Value '0' at 'deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.linearStepSize.value' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
  });

  it('wants the execution timeout larger than every wait the routing implies', async () => {
    // LINEAR by 10%: ten steps of 60 s, then the termination wait of 30 s: 630 s in all.
    const linear = (maximum: number) =>
      routing(
        {
          Type: 'LINEAR',
          WaitIntervalInSeconds: 60,
          LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 10 },
        },
        { TerminationWaitInSeconds: 30, MaximumExecutionTimeoutInSeconds: maximum },
      );
    await refused(
      linear(630),
      '10 traffic-shifting step(s) × WaitIntervalInSeconds 60 + TerminationWaitInSeconds 30 = 630',
    );
    await accepted(linear(631));
    // CANARY: one wait after the canary, then the termination wait.
    const canary = (maximum: number) =>
      routing(
        { Type: 'CANARY', WaitIntervalInSeconds: 3600, CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 } },
        { TerminationWaitInSeconds: 3600, MaximumExecutionTimeoutInSeconds: maximum },
      );
    await refused(canary(7200), '= 7200 seconds');
    await accepted(canary(7201));
  });

  it('takes 1 to 10 rollback alarms, each one CloudWatch holds', async () => {
    const rollback = (names: string[]) =>
      ({
        ...routing({ Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 }),
        AutoRollbackConfiguration: { Alarms: names.map((AlarmName) => ({ AlarmName })) },
      }) as DeploymentConfig;
    await accepted(rollback(alarmNames.slice(0, 10)));
    await refused(
      rollback(alarmNames),
      "at 'deploymentConfig.autoRollbackConfiguration.alarms' failed to satisfy constraint: Member must have length less than or equal to 10",
    );
    await refused(rollback([]), 'Member must have length greater than or equal to 1');
    await refused(rollback(['rollback-1', 'never-created']), 'The CloudWatch alarm(s) [never-created]');
  });
});

describe('SageMaker UpdateEndpoint keeps variant names under a DeploymentConfig', () => {
  beforeAll(async () => {
    await createEndpointConfig(clients, 'single', [{ VariantName: 'AllTraffic', InitialInstanceCount: 2 }]);
    await createEndpointConfig(clients, 'split', [
      { VariantName: 'variant-1', InitialInstanceCount: 2 },
      { VariantName: 'variant-2', InitialInstanceCount: 2 },
    ]);
    await createEndpoint(clients, 'renaming', 'single');
  });
  const canary = {
    BlueGreenUpdatePolicy: {
      TrafficRoutingConfiguration: {
        Type: 'CANARY',
        WaitIntervalInSeconds: 0,
        CanarySize: { Type: 'CAPACITY_PERCENT', Value: 50 },
      },
      MaximumExecutionTimeoutInSeconds: 600,
    },
  } as const;

  it('refuses traffic shifting to an endpoint config whose variants have other names', async () => {
    const error = await refusal(
      clients.sageMaker.send(
        new UpdateEndpointCommand({
          EndpointName: 'renaming',
          EndpointConfigName: 'split',
          DeploymentConfig: canary,
        }),
      ),
    );
    expect(error).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    expect(error?.message).toContain(
      "must have the same variant names as the endpoint's current configuration when DeploymentConfig is specified: current variant(s) [AllTraffic], new variant(s) [variant-1, variant-2]",
    );
    const endpoint = await clients.sageMaker.send(new DescribeEndpointCommand({ EndpointName: 'renaming' }));
    expect(endpoint).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: 'single' });
  });

  it('switches to the renamed variants at once when no DeploymentConfig is given', async () => {
    await clients.sageMaker.send(
      new UpdateEndpointCommand({ EndpointName: 'renaming', EndpointConfigName: 'split' }),
    );
    await waitForStatus(clients, 'renaming', 'InService');
    const endpoint = await clients.sageMaker.send(new DescribeEndpointCommand({ EndpointName: 'renaming' }));
    expect(endpoint.ProductionVariants?.map((variant) => variant.VariantName).sort()).toEqual([
      'variant-1',
      'variant-2',
    ]);
  });
});

describe('SageMaker UpdateEndpoint with Application Auto Scaling', () => {
  const target = {
    ServiceNamespace: 'sagemaker' as const,
    ResourceId: 'endpoint/scaled/variant/AllTraffic',
    ScalableDimension: 'sagemaker:variant:DesiredInstanceCount' as const,
  };
  beforeAll(async () => {
    await createEndpointConfig(clients, 'scaled-v1', [
      { VariantName: 'AllTraffic', InstanceType: 'ml.m5.large' },
    ]);
    await createEndpointConfig(clients, 'scaled-bigger', [
      { VariantName: 'AllTraffic', InstanceType: 'ml.m5.xlarge' },
    ]);
    await createEndpointConfig(clients, 'scaled-renamed', [
      { VariantName: 'Other', InstanceType: 'ml.m5.large' },
    ]);
    await createEndpointConfig(clients, 'scaled-v2', [
      { VariantName: 'AllTraffic', InstanceType: 'ml.m5.large', image: 'model-server:2' },
    ]);
    await createEndpoint(clients, 'scaled', 'scaled-v1');
    await clients.autoScaling.send(
      new RegisterScalableTargetCommand({ ...target, MinCapacity: 1, MaxCapacity: 2 }),
    );
    await waitForStatus(clients, 'scaled', 'InService');
  });
  const update = (EndpointConfigName: string) =>
    clients.sageMaker.send(new UpdateEndpointCommand({ EndpointName: 'scaled', EndpointConfigName }));

  it('refuses to change the instance type of a scaled variant, or to remove it', async () => {
    const retyped = await refusal(update('scaled-bigger'));
    expect(retyped).toMatchObject({ name: 'ValidationException' });
    expect(retyped?.message).toContain('would change the instance type of variant(s) [AllTraffic]');
    const removed = await refusal(update('scaled-renamed'));
    expect(removed?.message).toContain('would remove variant(s) [AllTraffic]');
  });

  it('allows a new model on the same instance type', async () => {
    await update('scaled-v2');
    await waitForStatus(clients, 'scaled', 'InService');
    expect(
      (await clients.sageMaker.send(new DescribeEndpointCommand({ EndpointName: 'scaled' })))
        .EndpointConfigName,
    ).toBe('scaled-v2');
  });

  it('allows the instance type change once the variant is deregistered', async () => {
    await clients.autoScaling.send(new DeregisterScalableTargetCommand(target));
    await update('scaled-bigger');
    await waitForStatus(clients, 'scaled', 'InService');
  });

  it('deregisters the targets and policies of an endpoint that is deleted', async () => {
    await clients.autoScaling.send(
      new RegisterScalableTargetCommand({ ...target, MinCapacity: 1, MaxCapacity: 2 }),
    );
    await waitForStatus(clients, 'scaled', 'InService');
    await clients.autoScaling.send(
      new PutScalingPolicyCommand({
        ...target,
        PolicyName: 'track',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: 10,
          PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        },
      }),
    );
    await clients.sageMaker.send(new DeleteEndpointCommand({ EndpointName: 'scaled' }));
    const targets = await clients.autoScaling.send(
      new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker', ResourceIds: [target.ResourceId] }),
    );
    expect(targets.ScalableTargets).toEqual([]);
    const policies = await clients.autoScaling.send(
      new DescribeScalingPoliciesCommand({ ServiceNamespace: 'sagemaker', ResourceId: target.ResourceId }),
    );
    expect(policies.ScalingPolicies).toEqual([]);
    // Nothing is left for the caller to remove.
    await expect(
      clients.autoScaling.send(new DeleteScalingPolicyCommand({ ...target, PolicyName: 'track' })),
    ).rejects.toMatchObject({ name: 'ObjectNotFoundException' });
  });
});

describe('SageMaker updates need an InService endpoint', () => {
  it('refuses to update an endpoint while it is being created', async () => {
    const slow = await startEmulatorWithClients({ delays: { endpointCreateMs: 60_000 } });
    try {
      await createEndpointConfig(slow, 'slow-config', [{ VariantName: 'AllTraffic' }]);
      await slow.sageMaker.send(
        new CreateEndpointCommand({ EndpointName: 'slow', EndpointConfigName: 'slow-config' }),
      );
      const error = await refusal(
        slow.sageMaker.send(
          new UpdateEndpointCommand({ EndpointName: 'slow', EndpointConfigName: 'slow-config' }),
        ),
      );
      expect(error).toMatchObject({
        name: 'ValidationException',
        message:
          'Cannot update in-progress endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/slow".',
      });
      const weights = await refusal(
        slow.sageMaker.send(
          new UpdateEndpointWeightsAndCapacitiesCommand({
            EndpointName: 'slow',
            DesiredWeightsAndCapacities: [{ VariantName: 'AllTraffic', DesiredInstanceCount: 2 }],
          }),
        ),
      );
      expect(weights?.message).toContain('Cannot update in-progress endpoint');
    } finally {
      await slow.close();
    }
  });

  it('lets a Failed endpoint only be deleted', async () => {
    await createEndpointConfig(clients, 'doomed-config', [{ VariantName: 'AllTraffic' }]);
    clients.emulator.faults.add({ kind: 'failEndpoint', endpointName: 'doomed' });
    await clients.sageMaker.send(
      new CreateEndpointCommand({ EndpointName: 'doomed', EndpointConfigName: 'doomed-config' }),
    );
    await waitForStatus(clients, 'doomed', 'Failed');
    const update = await refusal(
      clients.sageMaker.send(
        new UpdateEndpointCommand({ EndpointName: 'doomed', EndpointConfigName: 'doomed-config' }),
      ),
    );
    expect(update).toMatchObject({ name: 'ValidationException' });
    expect(update?.message).toContain('Cannot update failed endpoint');
    const weights = await refusal(
      clients.sageMaker.send(
        new UpdateEndpointWeightsAndCapacitiesCommand({
          EndpointName: 'doomed',
          DesiredWeightsAndCapacities: [{ VariantName: 'AllTraffic', DesiredWeight: 1 }],
        }),
      ),
    );
    expect(weights?.message).toContain('A failed endpoint can only be deleted');
    await clients.sageMaker.send(new DeleteEndpointCommand({ EndpointName: 'doomed' }));
  });

  it('deletes an endpoint config an endpoint still uses, as SageMaker does (its docs warn, not refuse)', async () => {
    await createEndpointConfig(clients, 'in-use', [{ VariantName: 'AllTraffic' }]);
    await createEndpoint(clients, 'user-of-config', 'in-use');
    await clients.sageMaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'in-use' }));
    expect(clients.emulator.inventory().endpointConfigs).not.toContain('in-use');
    expect(
      (await clients.sageMaker.send(new DescribeEndpointCommand({ EndpointName: 'user-of-config' })))
        .EndpointStatus,
    ).toBe('InService');
  });
});

describe('SageMaker list requests', () => {
  it('refuses sort keys, orders, page sizes and filters outside the documented values', async () => {
    const cases: [Promise<unknown>, string][] = [
      [
        clients.sageMaker.send(new ListEndpointsCommand({ SortBy: 'Size' as never })),
        "Value 'Size' at 'sortBy' failed to satisfy constraint: Member must satisfy enum value set: [Name, CreationTime, Status]",
      ],
      [
        clients.sageMaker.send(new ListModelsCommand({ SortBy: 'Status' as never })),
        'Member must satisfy enum value set: [Name, CreationTime]',
      ],
      [
        clients.sageMaker.send(new ListEndpointConfigsCommand({ SortOrder: 'Up' as never })),
        "Value 'Up' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [Ascending, Descending]",
      ],
      [
        clients.sageMaker.send(new ListEndpointsCommand({ MaxResults: 0 })),
        "Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1",
      ],
      [
        clients.sageMaker.send(new ListModelsCommand({ MaxResults: 101 })),
        'Member must have value less than or equal to 100',
      ],
      [
        clients.sageMaker.send(new ListEndpointConfigsCommand({ NameContains: 'has_underscore' })),
        'Member must satisfy regular expression pattern: [a-zA-Z0-9-]+',
      ],
      [
        clients.sageMaker.send(new ListEndpointsCommand({ StatusEquals: 'Happy' as never })),
        "Value 'Happy' at 'statusEquals'",
      ],
    ];
    for (const [request, message] of cases) {
      const error = await refusal(request);
      expect(error).toMatchObject({ name: 'ValidationException' });
      expect(error?.message).toContain(message);
    }
  });

  it('accepts page sizes of 1 and 100', async () => {
    expect((await clients.sageMaker.send(new ListModelsCommand({ MaxResults: 1 }))).Models).toHaveLength(1);
    const all = await clients.sageMaker.send(new ListModelsCommand({ MaxResults: 100 }));
    expect(all.Models?.length).toBeGreaterThan(1);
  });
});

describe('SageMaker CreateTrainingJob MetricDefinitions', () => {
  const job = (
    name: string,
    definitions: { Name: string; Regex: string }[],
  ): CreateTrainingJobCommandInput => ({
    TrainingJobName: name,
    RoleArn: testRoleArn,
    AlgorithmSpecification: {
      TrainingImage: 'trainer:1',
      TrainingInputMode: 'File',
      MetricDefinitions: definitions,
    },
    OutputDataConfig: { S3OutputPath: 's3://out/' },
    ResourceConfig: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1, VolumeSizeInGB: 10 },
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
  });
  const definitions = (count: number) =>
    Array.from({ length: count }, (_, index) => ({ Name: `metric-${index}`, Regex: `m${index}=([0-9.]+)` }));

  it('takes up to 40 definitions', async () => {
    await clients.sageMaker.send(new CreateTrainingJobCommand(job('forty', definitions(40))));
    const error = await refusal(
      clients.sageMaker.send(new CreateTrainingJobCommand(job('forty-one', definitions(41)))),
    );
    expect(error).toMatchObject({ name: 'ValidationException' });
    expect(error?.message).toContain(
      "at 'algorithmSpecification.metricDefinitions' failed to satisfy constraint: Member must have length less than or equal to 40",
    );
  });

  it('bounds a Name to 1–255 characters and a Regex to 1–500', async () => {
    await clients.sageMaker.send(
      new CreateTrainingJobCommand(
        job('longest', [{ Name: 'n'.repeat(255), Regex: `(${'x'.repeat(498)})` }]),
      ),
    );
    const cases: [{ Name: string; Regex: string }, string][] = [
      [
        { Name: '', Regex: 'loss=(.*)' },
        "at 'algorithmSpecification.metricDefinitions.1.member.name' failed to satisfy constraint: Member must have length greater than or equal to 1",
      ],
      [{ Name: 'n'.repeat(256), Regex: 'loss=(.*)' }, 'Member must have length less than or equal to 255'],
      [{ Name: 'loss', Regex: '' }, "at 'algorithmSpecification.metricDefinitions.1.member.regex'"],
      [{ Name: 'loss', Regex: `(${'x'.repeat(499)})` }, 'Member must have length less than or equal to 500'],
    ];
    for (const [definition, message] of cases) {
      const error = await refusal(
        clients.sageMaker.send(new CreateTrainingJobCommand(job('refused', [definition]))),
      );
      expect(error).toMatchObject({ name: 'ValidationException' });
      expect(error?.message).toContain(message);
    }
  });
});
