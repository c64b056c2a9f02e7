import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMlscale, type MlscaleClient, MlscaleError } from '@mlscale/core';
import { afterAll, describe, expect, it } from 'vitest';
import { type LocalGpuBackend, localGpu } from '../src/index.js';
import { encodeGraph, onnxElementType, referenceMlp } from '../src/onnx/index.js';
import { referenceInput, temporaryFolder, writeModel } from './helpers.js';

const folder = temporaryFolder();
const root = join(folder.path, 'state');
const modelPath = writeModel(folder.path, 'reference.onnx', referenceMlp(7));
const predictRequest = {
  inputs: [
    { name: 'input', datatype: 'FP32' as const, shape: [1, 784], data: Array.from(referenceInput(3)) },
  ],
};
const clients: MlscaleClient[] = [];

/** A client over a new backend on the shared root: what another process (or a restart) sees. */
function open(): MlscaleClient {
  const client = createMlscale({
    backend: localGpu({ root, device: 'cpu' }),
    polling: { minDelayMs: 10, maxDelayMs: 100 },
  });
  clients.push(client);
  return client;
}

const recordPath = (name: string) => join(root, 'deployments', `${name}.json`);
const readRecord = (name: string) => JSON.parse(readFileSync(recordPath(name), 'utf8'));

/** Every file under the state directory, as text. */
function stateText(directory = root): string {
  return readdirSync(directory)
    .map((entry) => {
      const path = join(directory, entry);
      return statSync(path).isDirectory() ? stateText(path) : readFileSync(path, 'utf8');
    })
    .join('\n');
}

/** A pid that no process has any more: a child that has exited. */
async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

async function refusal(promise: Promise<unknown>): Promise<MlscaleError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!MlscaleError.isInstance(error)) throw new Error(`expected an MlscaleError, got ${String(error)}`);
  return error;
}

afterAll(async () => {
  for (const client of clients) await client.close();
  folder.remove();
});

describe('the deployment record under <root>/deployments', () => {
  it('survives the backend: a new one reports the deployment not running here, and reconcile serves it again', async () => {
    const first = open();
    const deployed = await first.deploy({ name: 'survivor', model: { uri: modelPath }, replicas: 1 });
    const url = deployed.endpoint!.url;
    const written = readRecord('survivor');
    expect(written).toMatchObject({
      format: 'mlscale.local.deployment/1',
      name: 'survivor',
      record: { desired: { name: 'survivor', model: { uri: modelPath } }, servingIsDesired: true },
      process: { pid: process.pid, url },
    });
    expect(written.process.stoppedAt).toBeUndefined();
    await first.close();
    expect(readRecord('survivor').process.stoppedAt).toEqual(expect.any(String));
    await expect(fetch(`${url}/v2/health/live`)).rejects.toThrow();

    const second = open();
    const stopped = readFileSync(recordPath('survivor'), 'utf8');
    const seen = await second.get('survivor');
    expect(seen.state).toBe('Creating');
    expect(seen.stateReason).toMatch(
      /not running: the backend that served it \(pid \d+\) stopped its server/,
    );
    expect(seen.endpoint).toBeUndefined();
    expect(seen.replicas).toEqual({ desired: 1, ready: 0 });
    expect(seen.specHash).toBe(deployed.specHash);
    expect(seen.servingSpecHash).toBe(deployed.specHash);
    const listed = [];
    for await (const status of second.list()) listed.push(status.name);
    expect(listed).toContain('survivor');
    const notHere = await refusal(second.predict('survivor', predictRequest));
    expect(notHere.code).toBe('Conflict');
    expect(notHere.message).toMatch(/not running in this process/);
    expect(readFileSync(recordPath('survivor'), 'utf8'), 'reads change nothing').toBe(stopped);

    const restarted = await second.reconcile('survivor');
    expect(restarted?.state).toBe('InService');
    expect(restarted?.servingSpecHash).toBe(deployed.specHash);
    const answer = await second.predict('survivor', predictRequest);
    expect(answer.outputs[0]!.shape).toEqual([1, 10]);
    const rewritten = readRecord('survivor');
    expect(rewritten.process).toMatchObject({ pid: process.pid, url: restarted!.endpoint!.url });
    expect(rewritten.process.stoppedAt).toBeUndefined();
    await second.delete('survivor');
    expect(() => statSync(recordPath('survivor'))).toThrow();
  });

  it('never trusts a stale process entry: an exited pid reads as exited, a live one as serving elsewhere', async () => {
    const first = open();
    const deployed = await first.deploy({ name: 'moved', model: { uri: modelPath } });
    await first.close();
    const rewrite = (pid: number) => {
      const file = readRecord('moved');
      file.process = { ...file.process, pid, backend: 'another-backend', url: 'http://127.0.0.1:9' };
      delete file.process.stoppedAt;
      writeFileSync(recordPath('moved'), JSON.stringify(file));
    };
    const second = open();

    const gone = await exitedPid();
    rewrite(gone);
    const exited = await second.get('moved');
    expect(exited.state).toBe('Creating');
    expect(exited.stateReason).toBe(
      `not running: the process that served it (pid ${gone}) has exited; reconcile starts it here`,
    );

    let live: ChildProcess | undefined;
    try {
      live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);
      rewrite(live.pid!);
      const elsewhere = await second.get('moved');
      expect(elsewhere.state).toBe('InService');
      expect(elsewhere.endpoint).toEqual({ url: 'http://127.0.0.1:9' });
      expect(elsewhere.details?.process).toMatchObject({ pid: live.pid });
      // Another process serves it: this one does not start a second server, nor touch the record.
      const recorded = readFileSync(recordPath('moved'), 'utf8');
      const blocked = await refusal(second.reconcile('moved'));
      expect(blocked.message).toMatch(new RegExp(`process ${live.pid} serves it at http://127.0.0.1:9`));
      expect((second.backend as LocalGpuBackend).deployments.runtime('moved')).toBeUndefined();
      expect(readFileSync(recordPath('moved'), 'utf8')).toBe(recorded);
    } finally {
      live?.kill();
    }
    await new Promise((resolve) => live?.on('exit', resolve));
    expect((await second.get('moved')).stateReason).toMatch(/has exited; reconcile starts it here/);
    const restarted = await second.reconcile('moved');
    expect(restarted?.state).toBe('InService');
    expect(restarted?.servingSpecHash).toBe(deployed.specHash);
    await second.delete('moved');
  });

  it('holds no secret value: the environment and the server token are on disk only as seals', async () => {
    const apiToken = 'sk-local-RECORD-TOKEN-5b1e';
    const password = 'pw-local-RECORD-PASSWORD-c3d9';
    const serverToken = 'server-token-RECORD-0123456789';
    const first = open();
    const spec = {
      name: 'sealed',
      model: { uri: modelPath },
      environment: {
        API_TOKEN: apiToken,
        DATABASE_URL: `postgres://app:${password}@db.internal:5432/app`,
        LOG_LEVEL: 'info',
      },
      providerOptions: { local: { token: serverToken } },
    };
    const deployed = await first.deploy(spec);
    // Another change from a spec read back from the record (sealed values stand for the ones serving).
    const scaled = await first.update({ name: 'sealed', replicas: 2 });
    expect(scaled.replicas).toEqual({ desired: 2, ready: 2 });
    const health = await fetch(`${scaled.endpoint!.url}/v2/models/sealed`);
    expect(health.status, 'the server still requires its token').toBe(401);
    await first.close();

    const text = stateText();
    expect(text).toContain('sealed:hmac-sha256:');
    expect(text).toContain('"LOG_LEVEL": "info"');
    for (const secret of [apiToken, password, serverToken]) {
      expect(text, `the state directory holds ${secret}`).not.toContain(secret);
      expect(JSON.stringify([deployed, scaled])).not.toContain(secret);
    }

    // A new process has only the seals: it cannot start the server until it is given the token again.
    const second = open();
    const blocked = await refusal(second.reconcile('sealed'));
    expect(blocked.code).toBe('InvalidSpec');
    expect(blocked.message).toMatch(/providerOptions\.local\.token/);
    const resumed = await second.update({
      name: 'sealed',
      providerOptions: { local: { token: serverToken } },
    });
    expect(resumed.state).toBe('InService');
    expect(resumed.specHash).toBe(scaled.specHash);
    const authorized = await fetch(`${resumed.endpoint!.url}/v2/models/sealed`, {
      headers: { authorization: `Bearer ${serverToken}` },
    });
    expect(authorized.status).toBe(200);
    expect(stateText()).not.toContain(serverToken);
    await second.delete('sealed');
  });

  it('goes back to the serving spec when a rollout is rolled back, with the reason, on disk too', async () => {
    const client = open();
    const deployed = await client.deploy({ name: 'kept', model: { uri: modelPath } });
    // Loads as ONNX, but onnxruntime refuses it: the candidate's replicas do not start.
    const unloadable = encodeGraph({
      name: 'unloadable',
      inputs: [{ name: 'input', elementType: onnxElementType.float, shape: ['N', 784] }],
      outputs: [{ name: 'probabilities', elementType: onnxElementType.float, shape: ['N', 10] }],
      nodes: [{ opType: 'Gemm', inputs: ['input', 'W', 'B'], outputs: ['probabilities'] }],
      floatInitializers: [
        { name: 'W', dims: [5, 10], values: new Float32Array(50) },
        { name: 'B', dims: [10], values: new Float32Array(10) },
      ],
    });
    const badPath = writeModel(folder.path, 'kept-unloadable.onnx', unloadable);
    const refused = await refusal(client.update({ name: 'kept', model: { uri: badPath } }));
    expect(refused.message).toMatch(/rolled back version 2: replicas failed to start/);
    const status = await client.get('kept');
    expect(status).toMatchObject({
      state: 'InService',
      specHash: deployed.specHash,
      servingSpecHash: deployed.specHash,
      traffic: [{ version: '1', weight: 100 }],
    });
    expect(status.stateReason).toMatch(/was refused: rolled back version 2: replicas failed to start/);
    const file = readRecord('kept');
    expect(file.record.desired.model).toEqual({ uri: modelPath, format: 'onnx' });
    expect(file.record.servingIsDesired).toBe(true);
    expect(file.record.failure.message).toMatch(/rolled back version 2/);
    expect((await client.predict('kept', predictRequest)).modelVersion).toBe('1');
    await client.delete('kept');
  });
});
