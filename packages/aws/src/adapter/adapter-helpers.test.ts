import { gzipSync } from 'node:zlib';
import { deploymentSpecSchema, MlscaleError, sealDeploymentSpec } from '@mlscale/core';
import { markConverged, requestSpec } from '@mlscale/core/provider-utils';
import { describe, expect, it } from 'vitest';
import { policyFromAutoScaling, scalingPolicyRequest } from './autoscaling-translation.js';
import { awsErrorCode, fromAwsError, redactAwsText } from './aws-error.js';
import { fleetHash } from './deployment-fleet.js';
import { blueGreenDeploymentConfig, instanceTypeFor } from './deployment-requests.js';
import {
  readRecord,
  readRecordTags,
  recordTags,
  staleTagKeys,
  supersededChunkKeys,
} from './endpoint-record.js';
import { configOfModelName, deploymentResourceNames, isConfigNameOf } from './resource-names.js';
import { tagRecord } from './resource-tags.js';
import { resolveSageMakerSettings } from './sagemaker-settings.js';
import { specChunkTags, specFromChunkTags } from './spec-chunk-tags.js';

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
    // Application Auto Scaling's, CloudWatch's and CloudWatch Logs' account quotas, not rates.
    expect(awsErrorCode('LimitExceededException', 'x', 400)).toBe('QuotaExceeded');
    expect(awsErrorCode('LimitExceededFault', 'x', 400)).toBe('QuotaExceeded');
    expect(awsErrorCode('ResourceLimitExceeded', 'x', 400)).toBe('QuotaExceeded');
    for (const invalid of [
      'InvalidParameterValueException',
      'InvalidParameterCombinationException',
      'MissingRequiredParameterException',
      'SerializationException',
    ])
      expect([invalid, awsErrorCode(invalid, 'x', 400)]).toEqual([invalid, 'InvalidSpec']);
    expect(awsErrorCode('AccessDeniedException', 'x', 400)).toBe('Unauthorized');
    expect(awsErrorCode('ObjectNotFoundException', 'x', 400)).toBe('NotFound');
    expect(awsErrorCode('ResourceInUse', 'x', 400)).toBe('Conflict');
    expect(awsErrorCode('InternalFailure', 'x', 500)).toBe('BackendFailure');
    expect(awsErrorCode('Whatever', 'x', 429)).toBe('Throttled');
    expect(awsErrorCode('ValidationException', 'Cannot update in-progress endpoint "arn".', 400)).toBe(
      'Conflict',
    );
  });

  it('marks retryable only what may succeed when asked again', () => {
    const classify = (name: string, status: number, extra: object = {}, message = 'x') =>
      fromAwsError(
        Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status }, ...extra }),
        'SageMaker',
        'UpdateEndpoint',
      );
    expect(classify('ThrottlingException', 400).retryable).toBe(true);
    expect(classify('InternalFailure', 500, { $fault: 'server' }).retryable).toBe(true);
    expect(classify('ServiceUnavailable', 503).retryable).toBe(true);
    expect(classify('TimeoutError', 0).retryable).toBe(true);
    expect(classify('Error', 0, { code: 'ECONNRESET' }).retryable).toBe(true);
    expect(
      classify('ValidationException', 400, {}, 'Cannot update in-progress endpoint "arn".').retryable,
    ).toBe(true);
    for (const refused of [
      'AccessDeniedException',
      'ValidationException',
      'ResourceLimitExceeded',
      'LimitExceededException',
      'Odd',
    ]) {
      expect([refused, classify(refused, 400).retryable]).toEqual([refused, false]);
    }
    expect(classify('ModelError', 424).retryable).toBe(false);
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

  it('refuses the retry and wait settings that moved to the client, saying where', () => {
    const moved = (() => {
      try {
        resolveSageMakerSettings(
          { retry: { maxAttempts: 6 }, polling: { minDelayMs: 5, logIntervalMs: 10 } } as never,
          {},
        );
      } catch (caught) {
        return caught as MlscaleError;
      }
    })();
    expect(moved?.code).toBe('InvalidSpec');
    expect(moved?.issues.map((issue) => issue.path).sort()).toEqual(['polling.minDelayMs', 'retry']);
    expect(moved?.message).toContain('createMlscale({ backend, retry })');
    expect(resolveSageMakerSettings({}, {}).maxAttempts).toBeUndefined();
  });
});

describe('spec chunk tags (training jobs)', () => {
  it('round-trips a spec through 256-character tag values', () => {
    const large = spec({
      environment: Object.fromEntries(
        Array.from({ length: 40 }, (_, index) => [`VARIABLE_${index}`, `value-${index}-${'x'.repeat(20)}`]),
      ),
    });
    const tags = specChunkTags(large);
    expect(tags.length).toBeGreaterThan(1);
    expect(
      tags.every((tag) => tag.Value.length <= 256 && /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u.test(tag.Value)),
    ).toBe(true);
    expect(specFromChunkTags(tagRecord(tags))).toEqual(JSON.parse(JSON.stringify(large)));
    expect(specFromChunkTags({ 'mlscale:spec-0': 'garbage' })).toBeUndefined();
  });
});

describe('the deployment record in endpoint tags', () => {
  const secret = 'sk-helper-SECRET-9d1e';
  const base = spec({ environment: { API_TOKEN: secret, LOG_LEVEL: 'debug' }, tags: { team: 'vision' } });

  it('is sealed, chunked within SageMaker tag limits, and read back', () => {
    const record = requestSpec(undefined, base);
    const tags = recordTags('demo', record);
    expect(JSON.stringify(tags)).not.toContain(secret);
    expect(tags).toMatchObject({ 'mlscale:deployment': 'demo', team: 'vision' });
    // `COUNT@GENERATION`, naming the chunks `mlscale:record-GENERATION-N`.
    const [count, generation] = tags['mlscale:chunks']!.split('@');
    expect(Object.keys(tags).filter((key) => key.startsWith('mlscale:record-'))).toEqual(
      Array.from({ length: Number(count) }, (_, index) => `mlscale:record-${generation}-${index}`),
    );
    // Every save is a new generation.
    expect(recordTags('demo', record)['mlscale:chunks']).not.toBe(tags['mlscale:chunks']);
    for (const value of Object.values(tags)) expect(value.length).toBeLessThanOrEqual(256);
    expect(readRecord('demo', tags, undefined)?.desiredHash).toBe(record.desiredHash);
    expect(readRecord('other', tags, undefined)).toBeUndefined();
  });

  it('reads the generation its pointer names, beside others not yet deleted, and marks those superseded', () => {
    const large = requestSpec(
      undefined,
      spec({
        environment: Object.fromEntries(
          Array.from({ length: 30 }, (_, index) => [`V${index}`, `${index}-${Math.random().toString(36)}`]),
        ),
      }),
    );
    const small = markConverged(requestSpec(undefined, base));
    const before = recordTags('demo', large);
    const after = recordTags('demo', small);
    // AddTags wrote the small record beside the large one, whose chunks stay until the next save.
    const both = { ...before, ...after };
    expect(readRecord('demo', both, undefined)?.desiredHash).toBe(small.desiredHash);
    expect(supersededChunkKeys(both, small).sort()).toEqual(
      Object.keys(before)
        .filter((key) => key.startsWith('mlscale:record-'))
        .sort(),
    );
    // Chunks the pointer names that are missing, or that do not decode: damaged, not foreign.
    const chunk = Object.keys(after).find((key) => key.startsWith('mlscale:record-'))!;
    const { [chunk]: _missing, ...without } = after;
    expect(readRecordTags('demo', without, undefined)).toMatchObject({ kind: 'damaged' });
    expect(readRecordTags('demo', { ...after, [chunk]: 'H4sIAAAA' }, undefined)).toMatchObject({
      kind: 'damaged',
    });
    expect(readRecordTags('other', after, undefined)).toEqual({ kind: 'none' });
    // Nothing of a damaged record is current.
    expect(supersededChunkKeys(without, undefined).length).toBe(Object.keys(without).length - 3);
  });

  it('refuses with InvalidSpec a record that does not fit beside the user tags', () => {
    const crowded = spec({
      tags: Object.fromEntries(Array.from({ length: 48 }, (_, index) => [`tag-${index}`, 'x'])),
    });
    expect(() => recordTags('demo', requestSpec(undefined, crowded))).toThrow(
      expect.objectContaining({ code: 'InvalidSpec' }),
    );
  });

  it("reads an earlier adapter's spec tags as a converged record, sealed, and marks them stale", () => {
    const legacy = Object.fromEntries(
      specChunkTags(JSON.parse(JSON.stringify(base))).map((tag) => [tag.Key, tag.Value]),
    );
    const tags = { ...legacy, 'mlscale:deployment': 'demo', 'mlscale:spec-hash': 'abc' };
    const record = readRecord('demo', tags, new Date(0));
    expect(record?.servingHash).toBe(record?.desiredHash);
    expect(JSON.stringify(record)).not.toContain(secret);
    expect(record?.desired).toEqual(sealDeploymentSpec(base));
    const next = recordTags('demo', record!);
    // The earlier adapter's tags (secrets among them) go right after the first save.
    expect(staleTagKeys({ ...tags, ...next }, next, record).sort()).toEqual(
      [...Object.keys(legacy), 'mlscale:spec-hash'].sort(),
    );
    expect(
      readRecord(
        'demo',
        { 'mlscale:deployment': 'demo', 'mlscale:spec-0': gzipSync('x').toString('base64url') },
        undefined,
      ),
    ).toBeUndefined();
  });
});

describe('fleets and names', () => {
  it('gives the same fleet to specs that differ only in what changes in place', () => {
    const sealed = (input: object) => sealDeploymentSpec(spec(input));
    const fleet = fleetHash(sealed({ replicas: 1 }));
    expect(fleetHash(sealed({ replicas: 3, tags: { a: 'b' }, rollout: { steps: [100] } }))).toBe(fleet);
    expect(
      fleetHash(
        sealed({
          replicas: 2,
          autoscaling: { minReplicas: 1, maxReplicas: 4, target: { metric: 'cpuUtilization', value: 50 } },
        }),
      ),
    ).toBe(fleet);
    expect(fleetHash(sealed({ model: { uri: 's3://b/other.tar.gz' } }))).not.toBe(fleet);
    expect(fleetHash(sealed({ environment: { API_TOKEN: 'one' } }))).not.toBe(
      fleetHash(sealed({ environment: { API_TOKEN: 'two' } })),
    );
    // A spec sent back with its secrets sealed is the fleet running with their values.
    expect(fleetHash(sealed({ environment: { API_TOKEN: 'one' } }))).toBe(
      fleetHash(sealDeploymentSpec(sealed({ environment: { API_TOKEN: 'one' } }))),
    );
  });

  it('names configs and models so that a deployment finds its own and no other', () => {
    const names = deploymentResourceNames('conf-u1', 'abcdef0123456789', 1);
    expect(names).toEqual({
      endpoint: 'conf-u1',
      endpointConfig: 'conf-u1-abcdef0123',
      models: ['conf-u1-abcdef0123-m0'],
      variants: ['AllTraffic'],
    });
    expect(isConfigNameOf('conf-u1', names.endpointConfig)).toBe(true);
    expect(isConfigNameOf('conf-u10', names.endpointConfig)).toBe(false);
    expect(isConfigNameOf('conf-u1', 'conf-u10-abcdef0123')).toBe(false);
    expect(configOfModelName('conf-u1', names.models[0]!)).toBe(names.endpointConfig);
    expect(configOfModelName('conf', names.models[0]!)).toBeUndefined();
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

  it('uses linear traffic shifting for equal steps, and picks GPU instances', () => {
    const config = blueGreenDeploymentConfig(
      spec({ rollout: { steps: [20, 40, 60, 80, 100], stepSeconds: 60 } }),
      {},
    );
    expect(config.BlueGreenUpdatePolicy?.TrafficRoutingConfiguration).toEqual({
      Type: 'LINEAR',
      LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 20 },
      WaitIntervalInSeconds: 60,
    });
    // Five shifts of 60 s and the termination wait (300 + 60), and 600 s for the new fleet to start.
    expect(config.BlueGreenUpdatePolicy?.MaximumExecutionTimeoutInSeconds).toBe(960);
    expect(() =>
      blueGreenDeploymentConfig(spec({ rollout: { steps: [10, 50, 100], stepSeconds: 60 } }), {}),
    ).toThrow(/rollout\.steps: expected \[c, 100\]/);
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
