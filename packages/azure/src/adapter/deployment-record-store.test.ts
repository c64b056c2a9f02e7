import type { OnlineEndpoint } from '@azure/arm-machinelearning';
import { deploymentSpecSchema, MlscaleError } from '@mlscale/core';
import { recordFromTags, requestSpec } from '@mlscale/core/provider-utils';
import { describe, expect, it } from 'vitest';
import { endpointTags, recordOf } from './deployment-record-store.js';

const spec = deploymentSpecSchema.parse({
  name: 'tagged-api',
  model: { name: 'mnist', version: 1 },
  environment: { API_TOKEN: 'sk-record-secret', LOG_LEVEL: 'info' },
  tags: { team: 'vision' },
});

describe('the record in endpoint tags', () => {
  it('writes the spec sealed into mlscale-record-{i} chunks of 256 characters, beside the spec’s own tags', () => {
    const record = requestSpec(undefined, spec);
    const tags = endpointTags(record);
    expect(tags.team).toBe('vision');
    expect(tags['mlscale-managed-by']).toBe('mlscale');
    for (const [name, value] of Object.entries(tags)) {
      expect(value.length).toBeLessThanOrEqual(256);
      expect(name).not.toMatch(/[<>%&\\?/]/);
    }
    expect(JSON.stringify(tags)).not.toContain('sk-record-secret');
    expect(recordFromTags(tags, 'mlscale-record-')?.desiredHash).toBe(record.desiredHash);
    const endpoint = { tags, properties: { authMode: 'Key' } } as OnlineEndpoint;
    expect(recordOf(endpoint)?.desired.environment?.LOG_LEVEL).toBe('info');
    expect(recordOf({ ...endpoint, tags: { ...tags, 'mlscale-managed-by': 'someone' } })).toBeUndefined();
  });

  it('refuses, as InvalidSpec, a record that does not fit in Azure’s 50 tags', () => {
    const crowded = deploymentSpecSchema.parse({
      ...spec,
      tags: Object.fromEntries(Array.from({ length: 48 }, (_, index) => [`tag-${index}`, 'x'])),
      environment: Object.fromEntries(
        Array.from({ length: 40 }, (_, index) => [`VARIABLE_${index}`, `${index}`.repeat(40)]),
      ),
    });
    const error = (() => {
      try {
        endpointTags(requestSpec(undefined, crowded));
      } catch (caught) {
        return caught;
      }
    })();
    expect(MlscaleError.hasCode(error, 'InvalidSpec')).toBe(true);
    expect((error as MlscaleError).message).toContain('50 tags');
  });
});
