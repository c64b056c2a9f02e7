import { createMlscale, MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AzureMlEmulator, startAzureMlEmulator } from '../src/emulator/index.js';
import { azureml } from '../src/index.js';

let emulator: AzureMlEmulator;

beforeAll(async () => {
  emulator = await startAzureMlEmulator();
});

beforeEach(() => {
  emulator.inspection.clearFaults();
  emulator.inspection.resetRequests();
});

afterAll(() => emulator.close());

const attemptsOf = (operation: string) =>
  emulator.inspection.requests().filter((item) => item.operation === operation).length;

describe('one retry layer', () => {
  it('makes one attempt per SDK call: a 500 or a 429 comes back classified, not retried by the pipeline', async () => {
    const backend = azureml(emulator.settings);
    emulator.inspection.injectFault('serverError', 'GET onlineEndpoints', 10);
    const failed = await backend.deployments.doGet('absent-api', {}).catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(failed, 'BackendFailure')).toBe(true);
    expect((failed as MlscaleError).retryable).toBe(true);
    expect((failed as MlscaleError).statusCode).toBe(500);
    expect(attemptsOf('GET onlineEndpoints')).toBe(1);

    emulator.inspection.clearFaults();
    emulator.inspection.resetRequests();
    emulator.inspection.injectFault('throttling', 'GET onlineEndpoints', 10, { retryAfterSeconds: 2 });
    const throttled = await backend.deployments.doGet('absent-api', {}).catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(throttled, 'Throttled')).toBe(true);
    expect((throttled as MlscaleError).retryAfterMs).toBe(2000);
    expect(attemptsOf('GET onlineEndpoints')).toBe(1);
  });

  it('leaves retries to the client: a persistent 500 is tried exactly retry.maxAttempts times', async () => {
    const client = createMlscale({
      backend: azureml(emulator.settings),
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    });
    emulator.inspection.injectFault('serverError', 'GET onlineEndpoints', 100);
    const error = await client.get('absent-api').catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'BackendFailure')).toBe(true);
    expect(attemptsOf('GET onlineEndpoints')).toBe(3);
  });

  it('does not retry a refusal', async () => {
    const client = createMlscale({
      backend: azureml(emulator.settings),
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    });
    emulator.inspection.injectFault('accessDenied', 'GET onlineEndpoints', 100);
    const error = await client.get('absent-api').catch((caught: unknown) => caught);
    expect(MlscaleError.hasCode(error, 'Unauthorized')).toBe(true);
    expect((error as MlscaleError).statusCode).toBe(403);
    expect(attemptsOf('GET onlineEndpoints')).toBe(1);
  });
});
