import { MlscaleError } from '@mlscale/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './emulator-harness.js';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
  await harness.client.deploy({ name: 'refused', model: { uri: 's3://mlscale-models/mnist/model.tar.gz' } });
});
afterAll(async () => harness.close());
afterEach(() => harness.emulator.faults.clear());

/** What the client does that sends each operation. */
const calls: Record<string, () => Promise<unknown>> = {
  PutMetricAlarm: () =>
    harness.client.alerts.put({
      name: 'refused-errors',
      target: { deployment: 'refused' },
      metric: 'errors5xx',
      comparator: '>',
      threshold: 0.1,
    }),
  FilterLogEvents: async () => {
    for await (const _ of harness.client.logs({ deployment: 'refused' })) break;
  },
  DescribeScalableTargets: () => harness.client.get('refused'),
  GetMetricData: () => harness.client.metrics({ target: { deployment: 'refused' }, names: ['invocations'] }),
  DescribeEndpoint: () => harness.client.get('refused'),
};

/** Each refusal in the service's own error name, as the AWS SDK reports it. */
const refusals: { operation: string; type: string; code: string }[] = [
  // Application Auto Scaling, CloudWatch and CloudWatch Logs: an account quota is used up.
  { operation: 'PutMetricAlarm', type: 'LimitExceededFault', code: 'QuotaExceeded' },
  { operation: 'PutMetricAlarm', type: 'LimitExceededException', code: 'QuotaExceeded' },
  { operation: 'FilterLogEvents', type: 'LimitExceededException', code: 'QuotaExceeded' },
  { operation: 'DescribeScalableTargets', type: 'LimitExceededException', code: 'QuotaExceeded' },
  // CloudWatch's parameter refusals, and SageMaker's for a body it cannot read.
  { operation: 'GetMetricData', type: 'InvalidParameterValueException', code: 'InvalidSpec' },
  { operation: 'GetMetricData', type: 'InvalidParameterCombinationException', code: 'InvalidSpec' },
  { operation: 'GetMetricData', type: 'MissingRequiredParameterException', code: 'InvalidSpec' },
  { operation: 'GetMetricData', type: 'ValidationException', code: 'InvalidSpec' },
  { operation: 'DescribeEndpoint', type: 'SerializationException', code: 'InvalidSpec' },
];

describe('refusals that asking again cannot change', () => {
  it.each(refusals)('$type from $operation is $code, sent once', async ({ operation, type, code }) => {
    const { emulator } = harness;
    emulator.faults.add({ kind: 'error', operation, type, count: 10 });
    emulator.resetCalls();
    const error = await calls[operation]!().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(MlscaleError.isInstance(error), String(error)).toBe(true);
    expect(error).toMatchObject({ code, retryable: false });
    expect((error as Error).message).toContain(type.replace(/Exception$|Fault$/, ''));
    // The client's retry policy (4 attempts here) sent it once: not throttling, not a server failure.
    expect(emulator.calls().filter((call) => call.operation === operation)).toHaveLength(1);
  });
});
