import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateTrainingJobCommand,
  DescribeTrainingJobCommand,
  type MetricDefinition,
  waitUntilTrainingJobCompletedOrStopped,
} from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmulatorWithClients, startEmulatorWithClients, testRoleArn } from './sdk-clients-for-tests.js';

// SageMaker publishes a training job's algorithm metrics only under the names of its
// MetricDefinitions, with values its Regexes find in the job's logs; a job without definitions has none.

let clients: EmulatorWithClients;
beforeAll(async () => {
  clients = await startEmulatorWithClients();
});
afterAll(async () => clients.close());

async function train(name: string, definitions?: MetricDefinition[]) {
  await clients.sageMaker.send(
    new CreateTrainingJobCommand({
      TrainingJobName: name,
      RoleArn: testRoleArn,
      AlgorithmSpecification: {
        TrainingImage: 'trainer:1',
        TrainingInputMode: 'File',
        ...(definitions ? { MetricDefinitions: definitions } : {}),
      },
      // The emulator's trainer logs "epoch=N train_loss=L accuracy=A" per epoch; loss falls with the rate.
      HyperParameters: { epochs: '3', learning_rate: '0.5' },
      OutputDataConfig: { S3OutputPath: 's3://out/' },
      ResourceConfig: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1, VolumeSizeInGB: 10 },
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    }),
  );
  await waitUntilTrainingJobCompletedOrStopped(
    { client: clients.sageMaker, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.1 },
    { TrainingJobName: name },
  );
  return clients.sageMaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
}

/** How many datapoints CloudWatch holds for a job's metric over the last hour. */
async function datapoints(job: string, metricName: string): Promise<number> {
  const now = Date.now();
  const answer = await clients.cloudWatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(now - 3_600_000),
      EndTime: new Date(now + 60_000),
      MetricDataQueries: [
        {
          Id: 'count',
          MetricStat: {
            Metric: {
              Namespace: '/aws/sagemaker/TrainingJobs',
              MetricName: metricName,
              Dimensions: [{ Name: 'TrainingJobName', Value: job }],
            },
            Period: 60,
            Stat: 'SampleCount',
          },
        },
      ],
    }),
  );
  return (answer.MetricDataResults?.[0]?.Values ?? []).reduce((total, value) => total + value, 0);
}

describe('training metrics', () => {
  it('appear only under the defined names, with the values their Regexes parse from the logs', async () => {
    const described = await train('defined', [
      { Name: 'validation:accuracy', Regex: 'accuracy=([0-9.]+)' },
      { Name: 'never-logged', Regex: 'f1=([0-9.]+)' },
    ]);
    const finalLoss = 2.3 * Math.exp(-0.5 * 3 * 3);
    const finalAccuracy = 1 - Number(finalLoss.toFixed(4)) / 2.3 / 1.1;
    expect(described.FinalMetricDataList?.map((metric) => metric.MetricName)).toEqual([
      'validation:accuracy',
    ]);
    expect(described.FinalMetricDataList?.[0]?.Value).toBeCloseTo(finalAccuracy, 3);
    // One datapoint per epoch for the defined metric; none for a name the logs never match.
    expect(await datapoints('defined', 'validation:accuracy')).toBe(3);
    expect(await datapoints('defined', 'never-logged')).toBe(0);
    // The trainer's own loss line is not a metric unless a definition names it.
    expect(await datapoints('defined', 'train:loss')).toBe(0);
  });

  it('do not exist for a job without MetricDefinitions', async () => {
    const described = await train('undefined-metrics');
    expect(described.FinalMetricDataList ?? []).toEqual([]);
    const algorithmMetrics = clients.emulator.state.metrics.filter(
      (point) => point.dimensions.TrainingJobName === 'undefined-metrics',
    );
    expect(algorithmMetrics).toEqual([]);
  });
});
