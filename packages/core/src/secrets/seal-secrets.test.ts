import { afterEach, describe, expect, it } from 'vitest';
import { redactText } from '../redact.js';
import { deploymentSpecSchema } from '../spec/deployment.js';
import {
  deploymentSpecHash,
  isSealedValue,
  sealDeploymentSpec,
  sealSecrets,
  secretHashKeyVariable,
} from './seal-secrets.js';

const spec = (environment: Record<string, string>) =>
  deploymentSpecSchema.parse({ name: 'digits', model: { uri: 's3://models/v1.tar.gz' }, environment });

describe('sealing secrets', () => {
  afterEach(() => {
    delete process.env[secretHashKeyVariable];
  });

  it('seals secret-named values and values that carry a secret, and nothing else', () => {
    const { sealed, secrets } = sealSecrets(
      {
        API_TOKEN: 'sk-1',
        dbPassword: 'hunter2',
        DATABASE_URL: 'postgres://app:pw@db.internal:5432/app',
        AUTH_HEADER: 'Bearer eyJhbGciOi.x.y',
        BLOB: 'https://acct.blob.core.windows.net/c/m.onnx?sv=2024&sig=abc',
        MODE: 'fast',
        MODEL_URL: 'https://models.example.com/m.onnx',
        TLS: '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN\n-----END PRIVATE KEY-----\n',
      },
      'key',
    );
    expect(secrets.map((secret) => secret.path).sort()).toEqual([
      'API_TOKEN',
      'AUTH_HEADER',
      'BLOB',
      'DATABASE_URL',
      'TLS',
      'dbPassword',
    ]);
    expect(sealed.MODE).toBe('fast');
    expect(sealed.MODEL_URL).toBe('https://models.example.com/m.onnx');
    expect(isSealedValue(sealed.API_TOKEN)).toBe(true);
    expect(JSON.stringify(sealed)).not.toMatch(/sk-1|hunter2|pw@|eyJhbGciOi|sig=abc|MIIEvQIBADAN/);
    // Sealing is idempotent.
    expect(sealSecrets(sealed, 'key').sealed).toEqual(sealed);
  });

  it('hashes the same spec the same, with or without its secrets, and differently when a secret changes', () => {
    const one = spec({ API_TOKEN: 'sk-1' });
    expect(deploymentSpecHash(one)).toBe(deploymentSpecHash(sealDeploymentSpec(one)));
    expect(deploymentSpecHash(one)).not.toBe(deploymentSpecHash(spec({ API_TOKEN: 'sk-2' })));
  });

  it('keys the hash with MLSCALE_SECRET_HASH_KEY when it is set', () => {
    const one = spec({ API_TOKEN: 'sk-1' });
    const unkeyed = sealDeploymentSpec(one).environment?.API_TOKEN;
    process.env[secretHashKeyVariable] = 'a key only our CI has';
    expect(sealDeploymentSpec(one).environment?.API_TOKEN).not.toBe(unkeyed);
  });

  it('redacts URL userinfo in text, keeping the rest of the URL', () => {
    expect(redactText('connecting to postgres://app:pw@db.internal:5432/app')).toBe(
      'connecting to postgres://[redacted]@db.internal:5432/app',
    );
  });
});
