import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { createMlscale, type MlscaleClient } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AzureMlEmulator, startAzureMlEmulator } from '../src/emulator/index.js';
import { azureml } from '../src/index.js';
import { type Azurite, startAzurite } from './azurite.js';
import { bodyOf } from './wire-body.js';

/** Artifacts in the workspace's blob datastore (azurite): content-hashed uploads, versions, inputs. */
describe('blob artifacts with azurite', () => {
  let emulator: AzureMlEmulator;
  let azurite: Azurite;
  let client: MlscaleClient;
  let folder = '';

  const developmentKey =
    'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'mlscale-azure-artifacts-'));
    [emulator, azurite] = await Promise.all([startAzureMlEmulator(), startAzurite()]);
    client = createMlscale({
      backend: azureml({
        ...emulator.settings,
        blobServiceUrl: azurite.blobServiceUrl,
        compute: 'cpu-cluster',
      }),
      polling: { minDelayMs: 20, maxDelayMs: 200 },
    });
  }, 90_000);

  afterAll(async () => {
    await Promise.all([emulator?.close(), azurite?.close(), rm(folder, { recursive: true, force: true })]);
  });

  function container() {
    return new BlobServiceClient(
      azurite.blobServiceUrl,
      new StorageSharedKeyCredential('devstoreaccount1', developmentKey),
    ).getContainerClient('azureml-blobstore');
  }

  async function blobs(prefix: string): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for await (const blob of container().listBlobsFlat({ prefix }))
      found.set(blob.name, blob.properties.etag ?? '');
    return found;
  }

  it('uploads a model folder to the blob datastore under its content hash, once, and registers versions', async () => {
    const model = join(folder, 'resnet');
    await mkdir(join(model, 'assets'), { recursive: true });
    await writeFile(join(model, 'model.onnx'), Buffer.from([1, 2, 3, 4]));
    await writeFile(join(model, 'assets', 'labels.txt'), 'cat\ndog\n');
    const first = await client.models.register({
      name: 'resnet',
      path: model,
      metadata: { accuracy: 0.91 },
      lineage: { jobName: 'train-1' },
    });
    expect(first.version).toBe(1);
    expect(first.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(first.sizeBytes).toBe(4 + 8);
    expect(first.uri).toBe(
      `azureml://datastores/workspaceblobstore/paths/mlscale/models/resnet/${first.sha256}/`,
    );
    expect(first.metadata).toEqual({ accuracy: 0.91 });
    expect(first.lineage).toEqual({ jobName: 'train-1' });
    const uploaded = await blobs(`mlscale/models/resnet/${first.sha256}/`);
    expect([...uploaded.keys()].sort()).toEqual([
      `mlscale/models/resnet/${first.sha256}/.mlscale-complete`,
      `mlscale/models/resnet/${first.sha256}/assets/labels.txt`,
      `mlscale/models/resnet/${first.sha256}/model.onnx`,
    ]);
    const downloaded = await container()
      .getBlobClient(`mlscale/models/resnet/${first.sha256}/assets/labels.txt`)
      .downloadToBuffer();
    expect(downloaded.toString()).toBe('cat\ndog\n');

    const second = await client.models.register({ name: 'resnet', path: model });
    expect(second.version).toBe(2);
    expect(second.uri).toBe(first.uri);
    // Unchanged content: nothing was sent again (every blob keeps its etag).
    expect(await blobs(`mlscale/models/resnet/${first.sha256}/`)).toEqual(uploaded);

    await writeFile(join(model, 'model.onnx'), Buffer.from([9, 9, 9, 9]));
    const third = await client.models.register({ name: 'resnet', path: model });
    expect(third.sha256).not.toBe(first.sha256);
    expect((await client.models.get('resnet')).version).toBe(3);
    expect((await client.models.get('resnet', 1)).sha256).toBe(first.sha256);
    const listed = [];
    for await (const version of client.models.list('resnet')) listed.push(version.version);
    expect(listed).toEqual([3, 2, 1]);
  });

  it('deploys a local model file: uploaded once, registered under the endpoint name and tagged with it', async () => {
    const file = join(folder, 'tiny.onnx');
    await writeFile(file, Buffer.from('tiny model'));
    const status = await client.deploy({ name: 'tiny-api', model: { uri: file } });
    expect(status.traffic).toEqual([{ version: 'tiny-api-v1', weight: 100 }]);
    const registered = await client.models.get('tiny-api');
    expect(registered.uri).toMatch(
      /^azureml:\/\/datastores\/workspaceblobstore\/paths\/mlscale\/models\/tiny-api\/[0-9a-f]{64}\/tiny\.onnx$/,
    );
    expect(emulator.inspection.inventory('tiny-api')).toContain('models/tiny-api/versions/1');
    const uploaded = await blobs(`mlscale/models/tiny-api/${registered.sha256}/`);
    // Deleting the deployment removes the model version registered for it; the content-addressed blobs stay.
    await client.delete('tiny-api');
    expect(emulator.inspection.inventory('tiny-api')).toEqual([]);
    await client.deploy({ name: 'tiny-api', model: { uri: file } });
    expect((await client.models.get('tiny-api')).version).toBe(1);
    expect(await blobs(`mlscale/models/tiny-api/${registered.sha256}/`)).toEqual(uploaded);
  });

  it('uploads local training inputs and passes them as uri_folder inputs', async () => {
    const data = join(folder, 'data');
    await mkdir(data, { recursive: true });
    await writeFile(join(data, 'train.csv'), 'x,y\n1,2\n');
    const start = emulator.requests.length;
    await client.train(
      {
        name: 'local-input-job',
        image: 'python:3.12',
        command: ['python', 'train.py'],
        inputs: { train: { uri: data } },
      },
      { wait: false },
    );
    const put = emulator.requests
      .slice(start)
      .find((item) => item.method === 'PUT' && item.path.endsWith('/jobs/local-input-job'));
    const input = bodyOf(put).properties.inputs.train;
    expect(input).toMatchObject({ jobInputType: 'uri_folder', mode: 'Download' });
    expect(input.uri).toMatch(
      /^azureml:\/\/datastores\/workspaceblobstore\/paths\/mlscale\/inputs\/local-input-job\/[0-9a-f]{64}\/$/,
    );
  });
});
