import { MlscaleError } from '@mlscale/core';
import { describe, expect, it } from 'vitest';
import { resolveSettings } from './settings.js';

describe('resolveSettings', () => {
  it('takes ids from the environment when not given, and applies defaults', () => {
    const settings = resolveSettings(
      {},
      {
        AZURE_SUBSCRIPTION_ID: 'sub',
        AZURE_RESOURCE_GROUP: 'rg',
        AZUREML_WORKSPACE_NAME: 'ws',
        AZUREML_COMPUTE: 'cluster',
      },
    );
    expect(settings).toMatchObject({
      subscriptionId: 'sub',
      resourceGroup: 'rg',
      workspace: 'ws',
      compute: 'cluster',
      endpoint: 'https://management.azure.com',
      pollIntervalMs: 2000,
      authMode: 'key',
      datastore: 'workspaceblobstore',
    });
  });

  it('prefers explicit settings over the environment', () => {
    const settings = resolveSettings(
      {
        subscriptionId: 'explicit',
        resourceGroup: 'rg',
        workspace: 'ws',
        endpoint: 'https://management.chinacloudapi.cn/',
      },
      { AZURE_SUBSCRIPTION_ID: 'env' },
    );
    expect(settings.subscriptionId).toBe('explicit');
    expect(settings.endpoint).toBe('https://management.chinacloudapi.cn');
  });

  it('names each missing id and its environment variable', () => {
    const error = (() => {
      try {
        resolveSettings({ workspace: 'ws' }, {});
      } catch (caught) {
        return caught;
      }
    })();
    expect(MlscaleError.hasCode(error, 'InvalidSpec')).toBe(true);
    expect((error as MlscaleError).issues).toEqual([
      { path: 'subscriptionId', message: 'required: set it or AZURE_SUBSCRIPTION_ID' },
      { path: 'resourceGroup', message: 'required: set it or AZURE_RESOURCE_GROUP' },
    ]);
  });

  it('rejects unknown fields, a plain-http ARM endpoint and a credential without getToken', () => {
    const attempt = (input: Record<string, unknown>) => {
      try {
        resolveSettings({ subscriptionId: 's', resourceGroup: 'r', workspace: 'w', ...input } as never, {});
        return [];
      } catch (caught) {
        return (caught as MlscaleError).issues.map((issue) => issue.path);
      }
    };
    expect(attempt({ region: 'x' })).toEqual(['(root)']);
    expect(attempt({ endpoint: 'http://management.azure.com' })).toEqual(['endpoint']);
    expect(attempt({ credential: { token: 'x' } })).toEqual(['credential']);
    expect(attempt({ pollIntervalMs: 0 })).toEqual(['pollIntervalMs']);
  });
});
