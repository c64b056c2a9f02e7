import { createMlscale, type MlscaleClient } from '@mlscale/core';
import type { SageMakerSettings } from '../src/adapter/sagemaker-settings.js';
import { type AwsEmulator, type AwsEmulatorOptions, startAwsEmulator } from '../src/emulator/index.js';
import { sagemaker } from '../src/index.js';

export const roleArn = 'arn:aws:iam::123456789012:role/mlscale-test';
export const servingImage = '123456789012.dkr.ecr.us-east-1.amazonaws.com/mlscale-server:0.1.0';
/** Fake keys: the emulator ignores signatures, and tests check these never leak. */
export const fakeCredentials = {
  accessKeyId: 'AKIAEMULATOREXAMPLE1',
  secretAccessKey: 'emulator/secret/key/EXAMPLEKEYdoNotLeak123',
};

export interface Harness {
  emulator: AwsEmulator;
  settings: SageMakerSettings;
  client: MlscaleClient;
  close(): Promise<void>;
}

/**
 * An emulator, a sagemaker() backend on it and a client. The SDK makes one attempt per request (the
 * default); the client's retry policy, fast here, is the one retry layer.
 */
export async function startHarness(
  emulatorOptions: AwsEmulatorOptions = {},
  overrides: Partial<SageMakerSettings> = {},
): Promise<Harness> {
  const emulator = await startAwsEmulator(emulatorOptions);
  const settings: SageMakerSettings = {
    region: 'us-east-1',
    endpoint: emulator.url,
    credentials: fakeCredentials,
    roleArn,
    servingImage,
    polling: { logIntervalMs: 10 },
    // The emulator's resources are all seconds old: tests see garbage collection at once. (Its default,
    // keeping what was made in the last 5 minutes, is tested in garbage-collection-race.test.ts.)
    garbageCollection: { minimumAgeSeconds: 0 },
    ...overrides,
  };
  const client = createMlscale({
    backend: sagemaker(settings),
    polling: { minDelayMs: 5, maxDelayMs: 20 },
    retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
  });
  return {
    emulator,
    settings,
    client,
    async close() {
      await client.close();
      await emulator.close();
    },
  };
}
