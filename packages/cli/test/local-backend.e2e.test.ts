import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalGpuBackend, localGpu, referenceMlp } from '@mlscale/local-gpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendResolver } from '../src/backends/backend-pool.js';
import { ensureBuilt, removeBuild, startCli } from './cli-harness.js';
import { runInProcess } from './in-process.js';

const directory = mkdtempSync(join(tmpdir(), 'mlscale-local-'));
const config = (replicas: number, model: string) => `backends:
  local: { device: cpu }
deployments:
  - name: mnist-local
    model: { uri: ./${model} }
    replicas: ${replicas}
    batching: { maxBatchSize: 8 }
    rollout: { steps: [50, 100], stepSeconds: 0.2, minRequests: 0 }
`;
const request = {
  inputs: [
    { name: 'input', datatype: 'FP32', shape: [1, 784], data: Array.from({ length: 784 }, () => 0.5) },
  ],
};

beforeAll(async () => {
  writeFileSync(join(directory, 'model-v1.onnx'), referenceMlp(7));
  writeFileSync(join(directory, 'model-v2.onnx'), referenceMlp(8));
  await ensureBuilt();
}, 180_000);

afterAll(() => {
  removeBuild();
  rmSync(directory, { recursive: true, force: true });
});

describe('the local backend (onnxruntime on this machine)', () => {
  it('as a subprocess: applies, serves real inferences in the foreground, and stops on Ctrl-C', async () => {
    writeFileSync(join(directory, 'mlscale.yaml'), config(1, 'model-v1.onnx'));
    const child = startCli(['apply', '--yes'], { cwd: directory });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    for (let check = 0; check < 1200 && !output.includes('press Ctrl-C'); check++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(output).toContain('deployment/mnist-local: created');
    const url = /Serving mnist-local at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
    expect(url, output).toBeDefined();
    const response = await fetch(`${url}/v2/models/mnist-local/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { outputs: { shape: number[]; data: number[] }[] };
    expect(body.outputs[0]?.shape).toEqual([1, 10]);
    // A softmax: ten probabilities adding up to one.
    expect(body.outputs[0]?.data.reduce((sum, value) => sum + value, 0)).toBeCloseTo(1, 4);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(output).toContain('Stopping local deployments.');
    await expect(fetch(`${url}/v2/health/ready`)).rejects.toThrow();
  }, 90_000);

  describe('in one process (one backend), the plan converges', () => {
    let backend: LocalGpuBackend;
    // The pool closes what it builds after each command; the backend must outlive them, as a cloud does.
    const resolveBackend: BackendResolver = async () =>
      Object.assign(Object.create(backend) as LocalGpuBackend, { close: async () => {} });

    beforeAll(() => {
      backend = localGpu({ root: join(directory, '.mlscale'), device: 'cpu' });
    });
    afterAll(async () => {
      await backend.close();
    });

    it('apply then plan shows no changes; replicas update in place; a new model rolls out; destroy leaves nothing', async () => {
      writeFileSync(join(directory, 'mlscale.yaml'), config(1, 'model-v1.onnx'));
      const run = (args: string[]) => runInProcess(args, { cwd: directory, resolveBackend });
      const applied = await run(['apply', '--yes']);
      expect(applied.code, applied.stderr).toBe(0);
      expect((await run(['plan', '--detailed-exitcode'])).code).toBe(0);

      writeFileSync(join(directory, 'mlscale.yaml'), config(2, 'model-v1.onnx'));
      const scaled = JSON.parse((await run(['plan', '--json'])).stdout) as {
        changes: { action: string; changes: unknown[] }[];
      };
      expect(scaled.changes[0]).toMatchObject({
        action: 'update',
        changes: [{ path: 'replicas', before: 1, after: 2 }],
      });
      expect((await run(['apply', '--yes'])).code).toBe(0);
      expect((await backend.deployments.doGet('mnist-local', {}))?.replicas.desired).toBe(2);

      writeFileSync(join(directory, 'mlscale.yaml'), config(2, 'model-v2.onnx'));
      const rolled = JSON.parse((await run(['plan', '--json'])).stdout) as { changes: { action: string }[] };
      expect(rolled.changes[0]?.action).toBe('rollout');
      const rollout = await run(['apply', '--yes']);
      expect(rollout.code, rollout.stdout + rollout.stderr).toBe(0);
      expect((await run(['plan', '--detailed-exitcode'])).code).toBe(0);

      const prediction = await runInProcess(['predict', 'mnist-local', '--data', '-', '--json'], {
        cwd: directory,
        resolveBackend,
        input: JSON.stringify(request),
      });
      expect(prediction.code, prediction.stderr).toBe(0);
      expect((JSON.parse(prediction.stdout) as { outputs: { shape: number[] }[] }).outputs[0]?.shape).toEqual(
        [1, 10],
      );
      const destroyed = await run(['destroy', '--yes']);
      expect(destroyed.code, destroyed.stderr).toBe(0);
      expect(await backend.deployments.doGet('mnist-local', {})).toBeUndefined();
    }, 120_000);
  });
});
