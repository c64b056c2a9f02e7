import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVertexEmulator, type VertexEmulator } from '@mlscale/gcp/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendResolver } from '../src/backends/backend-pool.js';
import { resolveBackend } from '../src/backends/resolve-backend.js';
import { runInProcess } from './in-process.js';

/**
 * The CLI's backend registry loads @mlscale/gcp, whose vertex() speaks gRPC (the protos shipped in
 * @google-cloud/aiplatform) to the Vertex AI emulator on loopback. The emulator's TLS credentials are an
 * object a YAML file cannot hold, so the test adds them to the file's settings; the rest comes from it.
 */
describe('plan / apply / destroy against the Vertex AI emulator', () => {
  let emulator: VertexEmulator;
  const directory = mkdtempSync(join(tmpdir(), 'mlscale-vertex-'));
  const config = (replicas: number) => `backends:
  gcp:
    project: mlscale-test
    location: us-central1
    apiEndpoint: \${env:VERTEX_EMULATOR_HOST}
    port: \${env:VERTEX_EMULATOR_PORT}
    storageEndpoint: \${env:VERTEX_STORAGE_ENDPOINT}
    bucket: mlscale-artifacts
deployments:
  - name: mnist-vertex
    model: { uri: ./model.onnx }
    instance: { type: n1-standard-4, accelerator: { type: NVIDIA_TESLA_T4 } }
    replicas: ${replicas}
`;
  let env: Record<string, string>;
  let withTls: BackendResolver;

  beforeAll(async () => {
    emulator = await startVertexEmulator({ project: 'mlscale-test' });
    writeFileSync(join(directory, 'model.onnx'), 'the emulator predicts a softmax over the input');
    env = {
      VERTEX_EMULATOR_HOST: emulator.apiEndpoint,
      VERTEX_EMULATOR_PORT: String(emulator.port),
      VERTEX_STORAGE_ENDPOINT: emulator.storageEndpoint,
    };
    withTls = (backend, folder) => {
      const port = Number(backend.settings.port);
      return resolveBackend(
        {
          ...backend,
          settings: {
            ...backend.settings,
            port,
            sslCreds: emulator.sslCreds,
            polling: { minDelayMs: 20, maxDelayMs: 200 },
          },
        },
        folder,
      );
    };
  });
  afterAll(async () => {
    await emulator.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('creates with the Vertex price (machine + GPU), plans no changes, scales in place and destroys', async () => {
    const run = (args: string[]) =>
      runInProcess(args, {
        cwd: directory,
        env,
        resolveBackend: withTls,
        polling: { minDelayMs: 20, maxDelayMs: 200 },
      });
    writeFileSync(join(directory, 'mlscale.yaml'), config(1));
    const planned = await run(['plan', '--json']);
    expect(planned.code, planned.stderr).toBe(0);
    const first = JSON.parse(planned.stdout) as {
      changes: { action: string; cost: { hourly: { minimum: number } } }[];
    };
    expect(first.changes[0]).toMatchObject({ action: 'create', cost: { hourly: { minimum: 0.6215 } } });

    const applied = await run(['apply', '--yes']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const again = await run(['plan', '--detailed-exitcode']);
    expect(again.code, again.stdout).toBe(0);

    writeFileSync(join(directory, 'mlscale.yaml'), config(3));
    const scaled = JSON.parse((await run(['plan', '--json'])).stdout) as {
      changes: { action: string; changes: unknown[] }[];
    };
    expect(scaled.changes[0]).toMatchObject({
      action: 'update',
      changes: [{ path: 'replicas', before: 1, after: 3 }],
    });
    const scaledApply = await run(['apply', '--yes']);
    expect(scaledApply.code, scaledApply.stdout + scaledApply.stderr).toBe(0);

    const destroyed = await run(['destroy', '--yes']);
    expect(destroyed.code, destroyed.stdout + destroyed.stderr).toBe(0);
    const after = JSON.parse((await run(['plan', '--json'])).stdout) as { changes: { action: string }[] };
    expect(after.changes.map((row) => row.action)).toEqual(['create']);
  }, 120_000);
});
