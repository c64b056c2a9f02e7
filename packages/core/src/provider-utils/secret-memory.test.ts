import { describe, expect, it } from 'vitest';
import { MlscaleError } from '../errors.js';
import { sealDeploymentSpec } from '../secrets/seal-secrets.js';
import { deploymentSpecSchema } from '../spec/deployment.js';
import { createSecretMemory } from './secret-memory.js';

const spec = deploymentSpecSchema.parse({
  name: 'digits',
  model: { uri: 's3://models/v1.tar.gz' },
  environment: { API_TOKEN: 'sk-live-1', DATABASE_URL: 'postgres://app:pw@db/app', MODE: 'fast' },
});

describe('secret memory', () => {
  it('masks the values it knows in text, and says what blocks a spec it cannot unseal', () => {
    const memory = createSecretMemory();
    memory.remember(spec);
    expect(memory.mask("Value 'sk-live-1' at 'environment.API_TOKEN' and postgres://app:pw@db/app")).toBe(
      "Value '[redacted]' at 'environment.API_TOKEN' and [redacted]",
    );
    const blocked = createSecretMemory().resolve(sealDeploymentSpec(spec));
    expect(blocked).toEqual({ blocked: expect.stringContaining('environment.API_TOKEN') });
    expect(memory.resolve(sealDeploymentSpec(spec))).toEqual({ spec });
  });

  it('gives back the values behind seals this process saw', () => {
    const memory = createSecretMemory();
    memory.remember(spec);
    const sealed = sealDeploymentSpec(spec);
    expect(memory.missing(sealed)).toEqual([]);
    expect(memory.unseal(sealed)).toEqual(spec);
  });

  it('takes a value from the serving container only when it seals to the recorded hash', () => {
    const sealed = sealDeploymentSpec(spec);
    const fresh = createSecretMemory();
    expect(fresh.missing(sealed).sort()).toEqual(['environment.API_TOKEN', 'environment.DATABASE_URL']);
    const container: Record<string, string> = {
      API_TOKEN: 'sk-live-1',
      DATABASE_URL: 'postgres://app:pw@db/app',
    };
    const lookup = (path: string) => container[path.replace('environment.', '')];
    expect(fresh.unseal(sealed, lookup)).toEqual(spec);

    const wrong = createSecretMemory();
    const error = (() => {
      try {
        wrong.unseal(sealed, (path) => (path === 'environment.API_TOKEN' ? 'sk-live-OTHER' : lookup(path)));
      } catch (caught) {
        return caught;
      }
    })();
    expect(MlscaleError.hasCode(error, 'InvalidSpec')).toBe(true);
    expect((error as MlscaleError).issues.map((issue) => issue.path)).toEqual(['environment.API_TOKEN']);
    expect((error as MlscaleError).message).not.toContain('sk-live');
  });
});
