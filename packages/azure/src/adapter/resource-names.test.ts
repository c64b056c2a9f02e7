import { describe, expect, it } from 'vitest';
import { deploymentNameFor } from './resource-names.js';

describe('deploymentNameFor', () => {
  it('names a deployment after its model version, within Azure’s 32 characters', () => {
    expect(deploymentNameFor('mnist', '3')).toBe('mnist-v3');
    const long = deploymentNameFor('a-very-long-model-name-that-goes-on-and-on', '12');
    expect(long.length).toBeLessThanOrEqual(32);
    expect(long).toMatch(/^[a-z][a-z0-9-]*[a-z0-9]$/);
    expect(long.endsWith('-v12')).toBe(true);
  });
});
