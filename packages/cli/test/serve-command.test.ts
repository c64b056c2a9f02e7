import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { type LocalGpuBackend, referenceMlp } from '@mlscale/local-gpu';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/bin.js';
import type { CommandContext } from '../src/commands/command-context.js';
import { createServeCommand, nameFromPath } from '../src/commands/serve.js';
import { runInProcess } from './in-process.js';

/** A context writing into strings, with an AbortController standing in for SIGTERM. */
function testContext(cwd: string, env: Record<string, string> = {}) {
  const controller = new AbortController();
  const written = { stdout: '', stderr: '' };
  const context: CommandContext = {
    cwd,
    env,
    stdout: { write: (text: string) => (written.stdout += text) },
    stderr: { write: (text: string) => (written.stderr += text) },
    stdin: new PassThrough(),
    signal: controller.signal,
  };
  return { context, written, terminate: () => controller.abort() };
}

async function waitForLine(
  written: { stdout: string },
  timeoutMs = 20_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  while (!written.stdout.includes('\n')) {
    if (Date.now() > deadline) throw new Error('serve printed nothing');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return JSON.parse(written.stdout.split('\n')[0]!);
}

/** A POST whose body is sent in two halves: the second only when `finish()` is called. */
function slowRequest(url: string, text: string): { finish(): void; status: Promise<number> } {
  const bytes = Buffer.from(text);
  const half = Math.floor(bytes.length / 2);
  let finish = () => {};
  const status = new Promise<number>((resolve, reject) => {
    const request = httpRequest(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': bytes.length } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.write(bytes.subarray(0, half));
    finish = () => request.end(bytes.subarray(half));
  });
  return { finish: () => finish(), status };
}

const body = JSON.stringify({
  inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: new Array(784).fill(0.25) }],
});

describe('mlscale serve', () => {
  const folder = mkdtempSync(join(tmpdir(), 'mlscale-serve-'));
  writeFileSync(join(folder, 'Digits Model.onnx'), referenceMlp());
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('prints its URL as one JSON line, serves, and on SIGTERM drains in-flight requests before exiting 0', async () => {
    const { context, written, terminate } = testContext(folder);
    let backend: LocalGpuBackend | undefined;
    const exit = createServeCommand({ onServing: (serving) => (backend = serving) })(
      ['Digits Model.onnx', '--port', '0', '--max-batch-size', '8'],
      context,
    );
    const line = await waitForLine(written);
    expect(line).toMatchObject({
      model: 'digits-model',
      replicas: 1,
      device: { requested: 'auto', used: 'cpu' },
    });
    const url = line.url as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const first = await fetch(`${url}/v2/models/digits-model/infer`, { method: 'POST', body });
    expect(first.status).toBe(200);
    // Requests in flight when the signal arrives (half their body sent) still get their answers.
    const inFlight = Array.from({ length: 8 }, () =>
      slowRequest(`${url}/v2/models/digits-model/infer`, body),
    );
    // All eight reached the server (headers read, bodies pending) before the signal.
    await expect
      .poll(() => backend?.deployments.runtime('digits-model')?.activeRequests, { timeout: 20_000 })
      .toBe(8);
    terminate();
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const request of inFlight) request.finish();
    const statuses = await Promise.all(inFlight.map((request) => request.status));
    expect(statuses).toEqual(new Array(8).fill(200));
    expect(await exit).toBe(0);
    expect(written.stderr).toContain('draining in-flight requests');
    await expect(fetch(`${url}/v2/health/live`)).rejects.toThrow();
  });

  it('with --grpc-port, also serves gRPC and prints its address', async () => {
    const { context, written, terminate } = testContext(folder);
    const exit = createServeCommand()(['Digits Model.onnx', '--port', '0', '--grpc-port', '0'], context);
    const line = await waitForLine(written);
    const grpcUrl = line.grpcUrl as string;
    expect(grpcUrl).toMatch(/^127\.0\.0\.1:\d+$/);
    const port = Number(grpcUrl.split(':')[1]);
    const reachable = () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
    expect(await reachable()).toBe(true);
    terminate();
    expect(await exit).toBe(0);
    expect(await reachable()).toBe(false);
  });

  it('predict --url sends a request to a running server with no config file', async () => {
    const { context, written, terminate } = testContext(folder);
    const exit = createServeCommand()(['Digits Model.onnx', '--port', '0'], context);
    const { url } = (await waitForLine(written)) as { url: string };
    const viaName = await runInProcess(['predict', 'digits-model', '--url', url, '--data', '-', '--json'], {
      cwd: folder,
      input: body,
    });
    expect(viaName.code, viaName.stderr).toBe(0);
    const answer = JSON.parse(viaName.stdout) as {
      modelName: string;
      outputs: { shape: number[]; data: number[] }[];
    };
    expect(answer.modelName).toBe('digits-model');
    expect(answer.outputs[0]?.shape).toEqual([1, 10]);
    expect(answer.outputs[0]?.data.reduce((sum, value) => sum + value, 0)).toBeCloseTo(1, 4);
    const viaFullUrl = await runInProcess(
      ['predict', '--url', `${url}/v2/models/digits-model/infer`, '--data', '-'],
      { cwd: folder, input: body },
    );
    expect(viaFullUrl.code).toBe(0);
    expect(viaFullUrl.stdout).toMatch(/^model digits-model \(version 1\)\nprobabilities FP32 \[1, 10\]: \[/);
    const unknown = await runInProcess(['predict', 'other', '--url', url, '--data', '-'], {
      cwd: folder,
      input: body,
    });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("answered 404: unknown model 'other'");
    terminate();
    expect(await exit).toBe(0);
  });

  it('as a container, reads the model and routes from the platform variables', async () => {
    const modelFolder = join(folder, 'vertex-model');
    mkdirSync(modelFolder);
    writeFileSync(join(modelFolder, 'model.onnx'), referenceMlp());
    const { context, written, terminate } = testContext(folder, {
      AIP_STORAGE_URI: modelFolder,
      AIP_HTTP_PORT: '0',
      AIP_PREDICT_ROUTE: '/v1/endpoints/1/deployedModels/2:predict',
      AIP_HEALTH_ROUTE: '/v1/endpoints/1/deployedModels/2',
      MLSCALE_ALLOW_UNAUTHENTICATED: '1',
    });
    const exit = createServeCommand()([], context);
    const line = await waitForLine(written);
    expect(line.model).toBe('model');
    // A container binds all addresses (the platform must reach it); the test talks to loopback only.
    expect(line.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    const url = (line.url as string).replace('0.0.0.0', '127.0.0.1');
    expect((await fetch(`${url}/v1/endpoints/1/deployedModels/2`)).status).toBe(200);
    const predict = await fetch(`${url}/v1/endpoints/1/deployedModels/2:predict`, {
      method: 'POST',
      body: JSON.stringify({ instances: [new Array(784).fill(0.25)] }),
    });
    expect(predict.status).toBe(200);
    expect((await predict.json()).predictions[0]).toHaveLength(10);
    terminate();
    expect(await exit).toBe(0);
  });

  it('refuses a non-loopback address without a token, and bad flags, with exit code 2', async () => {
    const open = testContext(folder);
    expect(
      await createServeCommand()(['Digits Model.onnx', '--host', '0.0.0.0', '--port', '0'], open.context),
    ).toBe(2);
    expect(open.written.stderr).toMatch(/Refusing to bind 0\.0\.0\.0 without a token/);
    const badDevice = testContext(folder);
    expect(await createServeCommand()(['Digits Model.onnx', '--device', 'tpu'], badDevice.context)).toBe(2);
    expect(badDevice.written.stderr).toMatch(/--device: expected auto, cuda or cpu, got "tpu"/);
    const unknownFlag = testContext(folder);
    expect(await createServeCommand()(['--bogus'], unknownFlag.context)).toBe(2);
    const containerWithoutToken = testContext(folder, { AZUREML_MODEL_DIR: folder, AIP_HTTP_PORT: '0' });
    expect(await createServeCommand()([], containerWithoutToken.context)).toBe(2);
    expect(containerWithoutToken.written.stderr).toMatch(/Refusing to bind 0\.0\.0\.0 without a token/);
    const noModel = testContext(folder);
    expect(await createServeCommand()([], noModel.context)).toBe(2);
    expect(noModel.written.stderr).toMatch(
      /expected a model path, or \/opt\/ml\/model, AIP_STORAGE_URI or AZUREML_MODEL_DIR/,
    );
    const cuda = testContext(folder);
    expect(
      await createServeCommand()(['Digits Model.onnx', '--device', 'cuda', '--port', '0'], cuda.context),
    ).toBe(1);
    expect(cuda.written.stderr).toMatch(/CUDA provider libraries not installed/);
  });

  it('names models after their files as DNS labels', () => {
    expect(nameFromPath('/models/Digits Model.onnx')).toBe('digits-model');
    expect(nameFromPath('/opt/ml/model')).toBe('model');
    expect(nameFromPath('/x/7.onnx')).toBe('model');
    expect(nameFromPath(`/x/${'a'.repeat(40)}.onnx`)).toHaveLength(32);
  });

  it('the mlscale dispatcher lists commands and refuses unknown ones', async () => {
    const listed = testContext(folder);
    expect(await main(['--help'], listed.context)).toBe(0);
    expect(listed.written.stdout).toMatch(/serve\s+Serve an ONNX model/);
    expect(listed.written.stdout).toMatch(/\n {2}plan\s+/);
    const unknown = testContext(folder);
    expect(await main(['launch'], unknown.context)).toBe(2);
    expect(unknown.written.stderr).toContain("unknown command 'launch'");
    const serveHelp = testContext(folder);
    expect(await main(['serve', '--help'], serveHelp.context)).toBe(0);
    expect(serveHelp.written.stdout).toContain('Usage: mlscale serve [MODEL] [options]');
  });
});
