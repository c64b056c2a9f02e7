import { describe, expect, it } from 'vitest';
import { mergeOverride } from './merge-override.js';

class TokenCredential {
  constructor(readonly tenant: string) {}
  getToken(): string {
    return `token for ${this.tenant}`;
  }
}

describe("an environment's override", () => {
  it('merges plain objects key by key, replaces arrays and scalars, removes on null', () => {
    expect(
      mergeOverride(
        { replicas: 1, autoscaling: { minReplicas: 1, maxReplicas: 3 }, tags: ['a'] },
        { autoscaling: { maxReplicas: 8 }, tags: ['b'], replicas: null },
      ),
    ).toEqual({ autoscaling: { minReplicas: 1, maxReplicas: 8 }, tags: ['b'] });
  });

  it('keeps class instances (credentials) as they are, in the base and in the override', () => {
    const base = new TokenCredential('base');
    const override = new TokenCredential('prod');
    const kept = mergeOverride(
      { settings: { credential: base, region: 'a' } },
      { settings: { region: 'b' } },
    ) as {
      settings: { credential: TokenCredential; region: string };
    };
    expect(kept.settings.credential).toBe(base);
    expect(kept.settings.credential.getToken()).toBe('token for base');
    const replaced = mergeOverride({ credential: base }, { credential: override }) as {
      credential: TokenCredential;
    };
    expect(replaced.credential).toBe(override);
    // An instance is never merged into: the override's instance wins whole.
    expect(mergeOverride(base, { tenant: 'x' })).toEqual({ tenant: 'x' });
  });
});
