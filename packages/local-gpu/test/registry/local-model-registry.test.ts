import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrainingJobStatus } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalModelRegistry, hashArtifact, type LocalModelRegistry } from '../../src/registry/index.js';
import { temporaryDirectory } from '../training/training-fixtures.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('the local model registry', { timeout: 120_000 }, () => {
  let directory: { path: string; remove: () => Promise<void> };
  let registry: LocalModelRegistry;
  let first: string;
  let second: string;

  beforeAll(async () => {
    directory = await temporaryDirectory('registry');
    registry = createLocalModelRegistry({ root: join(directory.path, 'root') });
    first = join(directory.path, 'first.onnx');
    second = join(directory.path, 'second.onnx');
    await writeFile(first, 'first model bytes');
    await writeFile(second, 'second model bytes');
  });

  afterAll(async () => {
    await directory.remove();
  });

  it('stores artifacts by content and numbers versions from 1', async () => {
    const one = await registry.register({
      name: 'classifier',
      path: first,
      metadata: { accuracy: 0.9 },
      lineage: { jobName: 'train-1', hyperparameters: { epochs: 3 } },
    });
    expect(one).toMatchObject({
      name: 'classifier',
      version: 1,
      format: 'onnx',
      sha256: sha256('first model bytes'),
      sizeBytes: 17,
      metadata: { accuracy: 0.9 },
      lineage: { jobName: 'train-1', hyperparameters: { epochs: 3 } },
    });
    expect(one.uri).toBe(join(directory.path, 'root', 'registry', 'blobs', 'sha256', one.sha256));
    expect(await readFile(one.uri, 'utf8')).toBe('first model bytes');
    // Stored artifacts are read-only.
    expect((await stat(one.uri)).mode & 0o222).toBe(0);

    const two = await registry.register({ name: 'classifier', path: `file://${second}` });
    expect(two.version).toBe(2);
    const three = await registry.register({ name: 'classifier', path: first });
    expect(three.version).toBe(3);
    // The same bytes share one blob.
    expect(three.uri).toBe(one.uri);

    expect((await registry.doGet('classifier', undefined, {}))?.version).toBe(3);
    expect((await registry.doGet('classifier', 2, {}))?.sha256).toBe(sha256('second model bytes'));
    expect(await registry.doGet('classifier', 9, {})).toBeUndefined();
    expect(await registry.doGet('no-such-model', undefined, {})).toBeUndefined();
    expect((await registry.doGet('classifier', 1, {}))?.createdAt).toBeInstanceOf(Date);
  });

  it('lists versions newest first, of one model or of all', async () => {
    await registry.register({ name: 'regressor', path: second });
    const classifier = [];
    for await (const version of registry.doList('classifier', {})) classifier.push(version.version);
    expect(classifier).toEqual([3, 2, 1]);
    const everything = [];
    for await (const version of registry.doList(undefined, {}))
      everything.push(`${version.name}@${version.version}`);
    expect(everything).toHaveLength(4);
    expect(everything[0]).toBe('regressor@1');
  });

  it('resolves a version to its file after checking its hash, and refuses a changed one', async () => {
    const path = await registry.resolve('classifier', 2);
    expect(await readFile(path, 'utf8')).toBe('second model bytes');
    expect(await registry.resolve('classifier')).toBe(await registry.resolve('classifier', 3));

    await chmod(path, 0o644);
    await writeFile(path, 'second model bytes, tampered');
    await expect(registry.resolve('classifier', 2)).rejects.toMatchObject({
      code: 'BackendFailure',
      retryable: false,
      message: expect.stringContaining('failed its integrity check'),
    });
    // Registering the same bytes again repairs the stored copy, for the old version too.
    const again = await registry.register({ name: 'classifier', path: second });
    expect(again.uri).toBe(path);
    expect(await readFile(await registry.resolve('classifier', 2), 'utf8')).toBe('second model bytes');

    await rm(path);
    await expect(registry.resolve('classifier', 2)).rejects.toMatchObject({
      message: expect.stringContaining('is missing'),
    });
    await expect(registry.resolve('classifier', 7)).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('stores a folder (a job’s model directory) and resolves its .onnx file', async () => {
    const folder = join(directory.path, 'model-folder');
    await mkdir(join(folder, 'extra'), { recursive: true });
    await writeFile(join(folder, 'model.onnx'), 'folder model');
    await writeFile(join(folder, 'extra', 'labels.txt'), 'cat\ndog\n');
    const version = await registry.register({ name: 'folder-model', path: folder });
    expect(version.sha256).toBe((await hashArtifact(folder)).sha256);
    expect(version.sizeBytes).toBe('folder model'.length + 'cat\ndog\n'.length);
    const path = await registry.resolve('folder-model', version.version);
    expect(path).toBe(join(version.uri, 'model.onnx'));
    expect(await readFile(path, 'utf8')).toBe('folder model');

    // Any change inside the folder breaks the check.
    const labels = join(version.uri, 'extra', 'labels.txt');
    await chmod(labels, 0o644);
    await writeFile(labels, 'cat\n');
    await expect(registry.resolve('folder-model', version.version)).rejects.toMatchObject({
      code: 'BackendFailure',
    });
  });

  it('loads the bytes it verified: one read, checked against the registered sha256', async () => {
    const version = await registry.register({ name: 'loaded', path: first });
    const loaded = await registry.load('loaded', version.version);
    expect(loaded.path).toBe(version.uri);
    expect(Buffer.from(loaded.bytes).toString('utf8')).toBe('first model bytes');
    expect(createHash('sha256').update(loaded.bytes).digest('hex')).toBe(version.sha256);
    const folder = join(directory.path, 'loaded-folder');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'model.onnx'), 'folder model, loaded');
    await writeFile(join(folder, 'notes.txt'), 'notes');
    const folderVersion = await registry.register({ name: 'loaded-folder', path: folder });
    const fromFolder = await registry.load('loaded-folder', folderVersion.version);
    expect(fromFolder.path).toBe(join(folderVersion.uri, 'model.onnx'));
    expect(Buffer.from(fromFolder.bytes).toString('utf8')).toBe('folder model, loaded');
  });

  it('removes the copies killed registrations left, and leaves a live writer’s alone', async () => {
    const incoming = join(registry.root, 'blobs', 'incoming');
    await mkdir(incoming, { recursive: true });
    // A pid that ran and ended: a child process that has exited.
    const ended = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(ended.stdout.toString());
    const abandoned = join(incoming, `${deadPid}-left-by-a-killed-registration`);
    const live = join(incoming, `${process.pid}-being-copied`);
    await writeFile(abandoned, 'x'.repeat(1024));
    await writeFile(live, 'y');
    await registry.register({ name: 'after-a-kill', path: first });
    const left = await readdir(incoming);
    expect(left).not.toContain(`${deadPid}-left-by-a-killed-registration`);
    expect(left).toContain(`${process.pid}-being-copied`);
    await rm(live);
  });

  it('names a damaged version file instead of failing with a parser error', async () => {
    await registry.register({ name: 'truncated', path: first });
    const file = join(registry.root, 'models', 'truncated', '1.json');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.slice(0, 20));
    const listing = async () => {
      for await (const _version of registry.doList('truncated', {})) {
        // Reading is enough.
      }
    };
    await expect(listing()).rejects.toMatchObject({
      code: 'BackendFailure',
      message: expect.stringMatching(
        /^The registry file .*truncated\/1\.json cannot be read: .*It is damaged/,
      ),
    });
    await expect(registry.resolve('truncated', 1)).rejects.toMatchObject({ code: 'BackendFailure' });
  });

  it('validates what it is given', async () => {
    await expect(registry.register({ name: 'Bad Name', path: first })).rejects.toMatchObject({
      code: 'InvalidSpec',
      issues: [expect.objectContaining({ path: 'name' })],
    });
    await expect(
      registry.register({ name: 'remote', path: 's3://bucket/model.onnx?X-Amz-Signature=abc' }),
    ).rejects.toMatchObject({
      code: 'Unsupported',
      message: expect.not.stringContaining('abc'),
    });
    await expect(
      registry.register({ name: 'missing', path: join(directory.path, 'nothing.onnx') }),
    ).rejects.toMatchObject({
      code: 'NotFound',
    });
    const empty = join(directory.path, 'empty-folder');
    await mkdir(empty);
    await expect(registry.register({ name: 'empty', path: empty })).rejects.toMatchObject({
      code: 'InvalidSpec',
    });
    await expect(registry.resolve('classifier', 0)).rejects.toMatchObject({ code: 'InvalidSpec' });
    await expect(
      registry.registerJobModel({ name: 'job', state: 'Running' } as TrainingJobStatus, { name: 'from-job' }),
    ).rejects.toMatchObject({ code: 'Conflict' });
    expect(() => createLocalModelRegistry({ root: '' })).toThrow(
      expect.objectContaining({ code: 'InvalidSpec' }),
    );
  });
});
