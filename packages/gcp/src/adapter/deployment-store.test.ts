import { deploymentSpecSchema } from '@mlscale/core';
import { markConverged, requestSpec } from '@mlscale/core/provider-utils';
import { describe, expect, it } from 'vitest';
import { describeDeployment, endpointLabels, freshProgress, readDeployment } from './deployment-store.js';

const spec = deploymentSpecSchema.parse({
  name: 'demo',
  model: { uri: 'gs://bucket/model/' },
  environment: { API_TOKEN: 'tok-store-test-51c2', LOG_LEVEL: 'info' },
  tags: { 'cost:center': 'ML' },
});

describe('the deployment record in an endpoint description', () => {
  it('reads back the record and the progress of its desired spec, with secrets sealed', () => {
    const record = requestSpec(undefined, spec);
    const progress = {
      ...freshProgress(record),
      rollout: { step: 50, since: '2026-01-01T00:00:00.000Z', from: { '1': 100 } },
    };
    const description = describeDeployment(record, progress);
    expect(description).not.toContain('tok-store-test');
    const read = readDeployment({ description });
    expect(read?.record.desiredHash).toBe(record.desiredHash);
    expect(read?.record.desired.environment?.LOG_LEVEL).toBe('info');
    expect(read?.progress).toEqual(progress);
  });

  it('drops progress that belongs to another spec, and ignores descriptions mlscale did not write', () => {
    const first = markConverged(requestSpec(undefined, spec));
    const next = requestSpec(first, { ...spec, replicas: 3 });
    const stale = describeDeployment(first, freshProgress(first)).split('\n')[1]!;
    const mixed = `${describeDeployment(next)}\n${stale}`;
    expect(readDeployment({ description: mixed })?.progress).toBeUndefined();
    expect(readDeployment({ description: 'an endpoint someone made by hand' })).toBeUndefined();
    expect(readDeployment({ description: 'mlscale deployment record v1: not-a-record' })).toBeUndefined();
  });

  it('labels the endpoint with its tags (as valid label keys) and the two labels mlscale finds it by', () => {
    expect(endpointLabels(spec)).toEqual({
      cost_center: 'ml',
      'mlscale-managed': 'true',
      'mlscale-deployment': 'demo',
    });
  });

  it('leaves tags whose values are secrets out of the labels, sealed or not', () => {
    const tagged = deploymentSpecSchema.parse({
      ...spec,
      tags: { team: 'Vision', 'api-token': 'tok-label-7c1d', note: 'see https://user:pw@example.com/x' },
    });
    const expected = { team: 'vision', 'mlscale-managed': 'true', 'mlscale-deployment': 'demo' };
    // The record's spec has the secret sealed; labels take neither the seal nor the value.
    expect(endpointLabels(requestSpec(undefined, tagged).desired)).toEqual(expected);
    expect(endpointLabels(tagged)).toEqual(expected);
  });
});
