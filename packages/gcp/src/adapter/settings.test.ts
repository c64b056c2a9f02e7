import { MlscaleError } from '@mlscale/core';
import { describe, expect, it } from 'vitest';
import { resolveSettings } from './settings.js';

describe('vertex() settings', () => {
  it('falls back to the environment, then to defaults', () => {
    const settings = resolveSettings(
      {},
      {
        GOOGLE_CLOUD_PROJECT: 'from-env',
        CLOUD_ML_REGION: 'asia-east1',
        STORAGE_EMULATOR_HOST: '127.0.0.1:4443',
        MLSCALE_GCS_BUCKET: 'b',
      },
    );
    expect(settings).toMatchObject({
      project: 'from-env',
      location: 'asia-east1',
      storageEndpoint: 'http://127.0.0.1:4443',
      bucket: 'b',
      defaultMachineType: 'n1-standard-4',
    });
    expect(resolveSettings({ project: 'explicit' }, { GOOGLE_CLOUD_PROJECT: 'env' }).project).toBe(
      'explicit',
    );
  });

  it('names the field when something is missing or wrong', () => {
    expect(() => resolveSettings({}, {})).toThrow(/project: expected a project id/);
    try {
      resolveSettings({ project: 'p', port: 70_000 } as never, {});
    } catch (error) {
      expect(MlscaleError.hasCode(error, 'InvalidSpec')).toBe(true);
      expect((error as MlscaleError).issues[0]!.path).toBe('port');
    }
    expect.assertions(3);
  });
});
