import { deploymentSpecSchema, MlscaleError } from '@mlscale/core';
import { describe, expect, it } from 'vitest';
import { policyFromAutoScaling, scalingPolicyRequest } from './autoscaling-translation.js';
import { awsErrorCode, fromAwsError, redactAwsText } from './aws-error.js';
import { blueGreenDeploymentConfig, instanceTypeFor } from './deployment-requests.js';
import { resolveSageMakerSettings } from './sagemaker-settings.js';
import { specFromTags, specTags, tagRecord } from './spec-tags.js';

const spec = (input: object) =>
  deploymentSpecSchema.parse({ name: 'demo', model: { uri: 's3://b/m.tar.gz' }, ...input });

describe('AWS errors', () => {
  it('maps AWS error names to MlscaleError codes', () => {
    expect(awsErrorCode('ValidationException', 'Could not find endpoint "x".', 400)).toBe('NotFound');
    expect(awsErrorCode('ValidationException', 'Requested resource not found.', 400)).toBe('NotFound');
    expect(awsErrorCode('ValidationException', 'Cannot create already existing model "arn".', 400)).toBe(
      'AlreadyExists',
    );
    expect(
      awsErrorCode('ValidationException', 'Value at InstanceType failed to satisfy constraint', 400),
    ).toBe('InvalidSpec');
    expect(awsErrorCode('ThrottlingException', 'Rate exceeded', 400)).toBe('Throttled');
    expect(awsErrorCode('LimitExceededException', 'x', 400)).toBe('Throttled');
    expect(awsErrorCode('ResourceLimitExceeded', 'x', 400)).toBe('QuotaExceeded');
    expect(awsErrorCode('AccessDeniedException', 'x', 400)).toBe('Unauthorized');
    expect(awsErrorCode('ObjectNotFoundException', 'x', 400)).toBe('NotFound');
    expect(awsErrorCode('ResourceInUse', 'x', 400)).toBe('Conflict');
    expect(awsErrorCode('InternalFailure', 'x', 500)).toBe('BackendFailure');
    expect(awsErrorCode('Whatever', 'x', 429)).toBe('Throttled');
  });

  it('keeps the request id, hides the raw HTTP exchange and masks AWS secrets', () => {
    const original = Object.assign(
      new Error(
        'Signature mismatch for Credential=AKIAABCDEFGHIJKLMNOP/2026/us-east-1 Signature=0123456789abcdef0123',
      ),
      {
        name: 'InvalidSignatureException',
        $metadata: { httpStatusCode: 403, requestId: 'req-1' },
        $response: { headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIAABCDEFGHIJKLMNOP/...' } },
      },
    );
    const error = fromAwsError(original, 'SageMaker', 'ListEndpoints');
    expect(MlscaleError.hasCode(error, 'Unauthorized')).toBe(true);
    expect(error.message).toContain('request id req-1');
    expect(error.message).not.toContain('AKIAABCDEFGHIJKLMNOP');
    expect(error.message).not.toContain('0123456789abcdef0123');
    expect(JSON.stringify(error.cause)).not.toContain('AKIA');
    expect(redactAwsText('key ASIAABCDEFGHIJKLMNOP here')).toBe('key [redacted] here');
  });
});

describe('settings', () => {
  it('falls back to environment variables and validates, naming the field', () => {
    const resolved = resolveSageMakerSettings(
      {},
      {
        AWS_REGION: 'eu-west-1',
        MLSCALE_SAGEMAKER_ROLE_ARN: 'arn:aws:iam::123456789012:role/r',
        MLSCALE_S3_BUCKET: 'my-bucket',
      },
    );
    expect(resolved).toMatchObject({
      region: 'eu-west-1',
      roleArn: 'arn:aws:iam::123456789012:role/r',
      artifactBucket: 'my-bucket',
      instanceType: 'ml.m5.large',
    });
    const error = (() => {
      try {
        resolveSageMakerSettings({ region: 'mars', roleArn: 'admin' }, {});
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toMatchObject({ code: 'InvalidSpec' });
    expect((error as MlscaleError).issues.map((issue) => issue.path).sort()).toEqual(['region', 'roleArn']);
  });
});

describe('spec tags', () => {
  it('round-trips a spec through 256-character tag values', () => {
    const large = spec({
      environment: Object.fromEntries(
        Array.from({ length: 40 }, (_, index) => [`VARIABLE_${index}`, `value-${index}-${'x'.repeat(20)}`]),
      ),
    });
    const tags = specTags(large);
    expect(tags.length).toBeGreaterThan(1);
    expect(
      tags.every((tag) => tag.Value.length <= 256 && /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u.test(tag.Value)),
    ).toBe(true);
    expect(specFromTags(tagRecord(tags))).toEqual(JSON.parse(JSON.stringify(large)));
    expect(specFromTags({ 'mlscale:spec-0': 'garbage' })).toBeUndefined();
  });
});

describe('requests', () => {
  it('translates each autoscaling metric and reads it back', () => {
    for (const [metric, value] of [
      ['requestsPerSecond', 5],
      ['concurrentRequests', 4],
      ['cpuUtilization', 70],
      ['gpuUtilization', 80],
      ['latencyP95', 200],
    ] as const) {
      const policy = {
        minReplicas: 1,
        maxReplicas: 3,
        target: { metric, value },
        scaleInCooldownSeconds: 300,
        scaleOutCooldownSeconds: 60,
        tolerance: 0.1,
        scaleToZeroAfterSeconds: 300,
      };
      const request = scalingPolicyRequest(policy, 'e', 'AllTraffic');
      const back = policyFromAutoScaling(
        { MinCapacity: 1, MaxCapacity: 3 } as never,
        request as never,
        policy,
      );
      expect(back).toEqual(policy);
    }
  });

  it('uses linear traffic shifting for more than two steps, and picks GPU instances', () => {
    const config = blueGreenDeploymentConfig(
      spec({ rollout: { steps: [10, 50, 100], stepSeconds: 60 } }),
      {},
    );
    expect(config.BlueGreenUpdatePolicy?.TrafficRoutingConfiguration).toEqual({
      Type: 'LINEAR',
      LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 10 },
      WaitIntervalInSeconds: 60,
    });
    expect(
      blueGreenDeploymentConfig(spec({}), {}).BlueGreenUpdatePolicy?.TrafficRoutingConfiguration?.Type,
    ).toBe('ALL_AT_ONCE');
    expect(
      instanceTypeFor(
        spec({ instance: { accelerator: { type: 'nvidia-tesla-t4', count: 1 } } }),
        'ml.m5.large',
      ),
    ).toBe('ml.g4dn.xlarge');
    expect(() =>
      instanceTypeFor(spec({ instance: { accelerator: { type: 'nvidia-a100', count: 3 } } }), 'ml.m5.large'),
    ).toThrow(/set instance\.type/);
  });
});
