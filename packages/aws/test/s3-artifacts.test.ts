import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
// @ts-expect-error s3rver ships no type declarations.
import S3rver from 's3rver';
import { extract } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './emulator-harness.js';

const bucket = 'mlscale-artifacts';
let s3rver: { run(): Promise<{ port: number }>; close(): Promise<void> };
let s3: S3Client;
let harness: Harness;
let folder: string;
let puts = 0;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'mlscale-aws-s3-'));
  s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: join(folder, 's3'),
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await s3rver.run();
  const s3Endpoint = `http://127.0.0.1:${port}`;
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: s3Endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  // The adapter's S3 client is the user's own here, to count what it uploads.
  const adapterS3 = new S3Client({
    region: 'us-east-1',
    endpoint: s3Endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
  adapterS3.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutObjectCommand') puts++;
      return next(args);
    },
    { step: 'initialize' },
  );
  harness = await startHarness({}, { artifactBucket: bucket, clients: { s3: adapterS3 } });
});

afterAll(async () => {
  await harness?.close();
  s3?.destroy();
  await s3rver?.close();
  await rm(folder, { recursive: true, force: true });
});

async function download(key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

async function unpack(archive: Buffer): Promise<string> {
  const target = await mkdtemp(join(folder, 'unpacked-'));
  const file = join(target, 'model.tar.gz');
  await writeFile(file, archive);
  await extract({ file, cwd: target });
  return target;
}

describe('local artifacts go to S3 (s3rver) as SageMaker expects them', () => {
  it('packs a local model file as model.tar.gz, keyed by content hash, uploaded once', async () => {
    const modelFile = join(folder, 'mnist.onnx');
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, index) => (index * 31) % 256));
    await writeFile(modelFile, bytes);
    const status = await harness.client.deploy({ name: 'local-model', model: { uri: modelFile } });
    const [request] = harness.emulator.requestsFor('CreateModel');
    const url = (request!.input.PrimaryContainer as { ModelDataUrl: string }).ModelDataUrl;
    expect(url).toMatch(new RegExp(`^s3://${bucket}/mlscale/models/[0-9a-f]{64}/model\\.tar\\.gz$`));
    const key = url.slice(`s3://${bucket}/`.length);
    const unpacked = await unpack(await download(key));
    expect(await readFile(join(unpacked, 'mnist.onnx'))).toEqual(bytes);
    expect(puts).toBe(1);
    expect(status.state).toBe('InService');

    // The same bytes under another name and deployment: found by hash, not uploaded again.
    const copy = join(folder, 'copy');
    await mkdir(copy);
    await writeFile(join(copy, 'mnist.onnx'), bytes);
    await harness.client.deploy({
      name: 'local-model-2',
      model: { uri: `file://${join(copy, 'mnist.onnx')}` },
    });
    const second = harness.emulator.requestsFor('CreateModel').at(-1);
    expect((second!.input.PrimaryContainer as { ModelDataUrl: string }).ModelDataUrl).toBe(url);
    expect(puts).toBe(1);
  });

  it('packs a model folder with every file at the archive root', async () => {
    const modelFolder = join(folder, 'model-folder');
    await mkdir(join(modelFolder, 'assets'), { recursive: true });
    await writeFile(join(modelFolder, 'model.onnx'), 'onnx-bytes');
    await writeFile(join(modelFolder, 'assets', 'labels.txt'), 'zero\none\n');
    await harness.client.deploy({ name: 'folder-model', model: { uri: modelFolder } });
    const url = (
      harness.emulator.requestsFor('CreateModel').at(-1)!.input.PrimaryContainer as { ModelDataUrl: string }
    ).ModelDataUrl;
    const unpacked = await unpack(await download(url.slice(`s3://${bucket}/`.length)));
    expect(await readFile(join(unpacked, 'model.onnx'), 'utf8')).toBe('onnx-bytes');
    expect(await readFile(join(unpacked, 'assets', 'labels.txt'), 'utf8')).toBe('zero\none\n');
  });

  it('uploads a local training input folder under a content-hash prefix, once', async () => {
    const data = join(folder, 'train-data');
    await mkdir(data);
    await writeFile(join(data, 'part-0.csv'), '1,2,3\n');
    await writeFile(join(data, 'part-1.csv'), '4,5,6\n');
    const before = puts;
    const job = { image: 'training:1', inputs: { train: { uri: data } } };
    const status = await harness.client.train({ name: 'local-input', ...job }, { wait: false });
    const channel = (
      harness.emulator.requestsFor('CreateTrainingJob').at(-1)!.input.InputDataConfig as {
        DataSource: { S3DataSource: { S3Uri: string } };
      }[]
    )[0];
    const prefix = channel!.DataSource.S3DataSource.S3Uri;
    expect(prefix).toMatch(new RegExp(`^s3://${bucket}/mlscale/inputs/[0-9a-f]{64}/$`));
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix.slice(`s3://${bucket}/`.length) }),
    );
    expect(listed.Contents?.map((object) => object.Key?.split('/').at(-1)).sort()).toEqual([
      'part-0.csv',
      'part-1.csv',
    ]);
    expect(puts - before).toBe(3); // two files and the completion marker
    // Output defaults to the artifact bucket.
    expect(status.spec.output).toBeUndefined();
    expect(harness.emulator.requestsFor('CreateTrainingJob').at(-1)?.input.OutputDataConfig).toEqual({
      S3OutputPath: `s3://${bucket}/mlscale/training-output/`,
    });
    await harness.client.train({ name: 'local-input-2', ...job }, { wait: false });
    expect(puts - before).toBe(3);
  });

  it('registers versions in the SageMaker Model Registry and deploys a registered version', async () => {
    const { client, emulator } = harness;
    const file = join(folder, 'digits.onnx');
    const bytes = Buffer.from('digits-model-v1');
    await writeFile(file, bytes);
    const first = await client.models.register({
      name: 'digits',
      path: file,
      metadata: { accuracy: 0.98, description: 'first cut' },
      lineage: { jobName: 'digits-train-1', hyperparameters: { epochs: 3 } },
    });
    expect(first).toMatchObject({ name: 'digits', version: 1, format: 'onnx', sizeBytes: bytes.length });
    expect(first.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(first.uri).toMatch(new RegExp(`^s3://${bucket}/mlscale/models/[0-9a-f]{64}/model\\.tar\\.gz$`));
    // From S3: the object is read once to hash it.
    const archive = await download(first.uri.slice(`s3://${bucket}/`.length));
    const second = await client.models.register({ name: 'digits', path: first.uri });
    expect(second).toMatchObject({ version: 2, uri: first.uri, sizeBytes: archive.length });
    expect(second.sha256).toBe(createHash('sha256').update(archive).digest('hex'));

    expect((await client.models.get('digits')).version).toBe(2);
    const again = await client.models.get('digits', 1);
    expect(again.metadata).toEqual({ accuracy: 0.98, description: 'first cut' });
    expect(again.lineage).toEqual({ jobName: 'digits-train-1', hyperparameters: { epochs: 3 } });
    const versions = [];
    for await (const version of client.models.list('digits')) versions.push(version.version);
    expect(versions).toEqual([2, 1]);
    await expect(client.models.get('digits', 7)).rejects.toMatchObject({ code: 'NotFound' });
    await expect(client.models.get('unknown-model')).rejects.toMatchObject({ code: 'NotFound' });

    const package1 = emulator.requestsFor('CreateModelPackage')[0]?.input;
    expect(package1).toMatchObject({
      ModelPackageGroupName: 'digits',
      ModelApprovalStatus: 'Approved',
      InferenceSpecification: {
        Containers: [{ ModelDataUrl: first.uri, Environment: { MLSCALE_MODEL_FORMAT: 'onnx' } }],
      },
    });

    const deployed = await client.deploy({ name: 'digits-live', model: { name: 'digits', version: 1 } });
    expect(deployed.state).toBe('InService');
    expect(
      (emulator.requestsFor('CreateModel').at(-1)!.input.PrimaryContainer as { ModelDataUrl: string })
        .ModelDataUrl,
    ).toBe(first.uri);
    await expect(
      client.deploy({ name: 'digits-missing', model: { name: 'digits', version: 9 } }),
    ).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('says what is wrong with a local path that does not exist', async () => {
    await expect(
      harness.client.deploy({ name: 'missing-model', model: { uri: join(folder, 'nope.onnx') } }),
    ).rejects.toMatchObject({
      code: 'InvalidSpec',
      message: expect.stringContaining('does not exist'),
    });
  });
});
