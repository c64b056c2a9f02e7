import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './emulator-harness.js';
import { type OnnxTestModels, writeOnnxTestModels } from './onnx-test-models.js';
import { type S3TestServer, startS3TestServer } from './s3-test-server.js';

// The client's signature gate through sagemaker() on the emulator: what the endpoint serves and what
// would replace it are read (the uploaded archive's signature file, a model package's recorded one),
// and an incompatible update is refused before any SageMaker resource is made or changed.
let folder: string;
let s3: S3TestServer;
let harness: Harness;
let models: OnnxTestModels;
let reader: S3Client | undefined;
const s3client = () => {
  reader ??= s3.client();
  return reader;
};

/** The operations that would make or switch to a new fleet. */
const changingOperations = ['CreateModel', 'CreateEndpointConfig', 'UpdateEndpoint'] as const;

function changingRequests(): Record<string, number> {
  return Object.fromEntries(
    changingOperations.map((operation) => [operation, harness.emulator.requestsFor(operation).length]),
  );
}

/** Removes every signature file the adapter wrote beside an uploaded archive. */
async function deleteSignatureFiles(): Promise<void> {
  const listing = await s3client().send(new ListObjectsV2Command({ Bucket: s3.bucket }));
  const keys = (listing.Contents ?? []).flatMap((object) =>
    object.Key?.endsWith('/signature.json') ? [object.Key] : [],
  );
  expect(keys.length).toBeGreaterThan(0);
  for (const key of keys) await s3client().send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key }));
}

async function refusal(promise: Promise<unknown>): Promise<MlscaleError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof MlscaleError)) throw new Error(`expected an MlscaleError, got ${String(error)}`);
  return error;
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'mlscale-aws-gate-'));
  models = writeOnnxTestModels(folder);
  s3 = await startS3TestServer('mlscale-artifacts');
  harness = await startHarness({}, { artifactBucket: s3.bucket, clients: { s3: s3.client() } });
});

afterAll(async () => {
  await harness?.close();
  await s3?.close();
  await rm(folder, { recursive: true, force: true });
});

describe('the signature gate on SageMaker', () => {
  it('refuses an update to a local model of another signature: no model, config or endpoint update is sent', async () => {
    const { client } = harness;
    const first = await client.deploy({ name: 'gated', model: { uri: models.model } });
    const before = changingRequests();
    expect(before.CreateModel).toBeGreaterThan(0);
    const refused = await refusal(client.update({ name: 'gated', model: { uri: models.incompatibleModel } }));
    expect(refused.code).toBe('InvalidSpec');
    expect(refused.message).toMatch(/would break callers/);
    expect(refused.issues?.map((issue) => issue.path)).toContain('model');
    expect(changingRequests()).toEqual(before);
    expect((await client.get('gated')).specHash).toBe(first.specHash);

    // A model of the same signature goes through: the gate is not refusing everything.
    const updated = await client.update({
      name: 'gated',
      model: { uri: models.updatedModel },
      rollout: { steps: [100], stepSeconds: 0 },
    });
    expect(updated.state).toBe('InService');
    expect(harness.emulator.requestsFor('UpdateEndpoint').length).toBe(before.UpdateEndpoint! + 1);
  });

  it('refuses a registered version of another signature, by the signature recorded at registration', async () => {
    const { client } = harness;
    await client.models.register({ name: 'digits', path: models.model });
    const wide = await client.models.register({ name: 'digits', path: models.incompatibleModel });
    // Without the signature files beside the archives, only the model packages' metadata can tell.
    await deleteSignatureFiles();
    await client.deploy({ name: 'registered', model: { name: 'digits', version: 1 } });
    const before = changingRequests();
    const refused = await refusal(
      client.update({ name: 'registered', model: { name: 'digits', version: wide.version } }),
    );
    expect(refused.code).toBe('InvalidSpec');
    expect(refused.message).toMatch(/would break callers/);
    expect(changingRequests()).toEqual(before);
  });
});
