import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { azureml } from '@mlscale/azure';
import { type AzureMlEmulator, startAzureMlEmulator } from '@mlscale/azure/emulator';
import { createMlscale, type MlscaleClient } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendResolver } from '../src/backends/backend-pool.js';
import { resolveBackend } from '../src/backends/resolve-backend.js';
import { runInProcess } from './in-process.js';

/**
 * A config that serves `version: latest` of a registered model: the Azure backend records the spec as
 * the file says it (`latest`), so a plan after apply has nothing to do, and registering a newer version
 * does not turn the next plan into a rollout. The emulator's credential and pipeline policy are objects a
 * YAML file cannot hold, so the resolver adds the emulator's settings to the file's.
 */
describe('a deployment of `latest` on Azure ML settles in plan', () => {
  let emulator: AzureMlEmulator;
  const directory = mkdtempSync(join(tmpdir(), 'mlscale-azure-latest-'));
  let toEmulator: BackendResolver;
  /** A client of its own, as another process registering models and reconciling would be. */
  let client: MlscaleClient;
  const register = (name: string) =>
    client.models.register({
      name,
      path: `azureml://datastores/workspaceblobstore/paths/${name}/model.onnx`,
    });

  beforeAll(async () => {
    emulator = await startAzureMlEmulator();
    client = createMlscale({
      backend: azureml(emulator.settings),
      polling: { minDelayMs: 10, maxDelayMs: 100 },
    });
    toEmulator = (backend, folder) =>
      resolveBackend({ ...backend, settings: { ...backend.settings, ...emulator.settings } }, folder);
    writeFileSync(
      join(directory, 'mlscale.yaml'),
      `backends:
  azure: {}
deployments:
  - name: iris-latest
    model: { name: iris, version: latest }
    replicas: 1
`,
    );
  });
  afterAll(async () => {
    await client.close();
    await emulator.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('applies `latest`, then plans no changes, also after a newer version is registered', async () => {
    const run = (args: string[]) =>
      runInProcess(args, {
        cwd: directory,
        resolveBackend: toEmulator,
        polling: { minDelayMs: 10, maxDelayMs: 100 },
      });
    expect((await register('iris')).version).toBe(1);
    const applied = await run(['apply', '--yes']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);

    const settled = await run(['plan', '--detailed-exitcode']);
    expect(settled.code, settled.stdout + settled.stderr).toBe(0);

    // A newer version changes nothing by itself: reconcile keeps serving the version `latest` was.
    expect((await register('iris')).version).toBe(2);
    const reconciled = await client.reconcile('iris-latest');
    expect(reconciled?.spec.model).toEqual({ name: 'iris', version: 'latest' });
    expect(reconciled?.traffic).toEqual([{ version: 'iris-v1', weight: 100 }]);
    const later = await run(['plan', '--detailed-exitcode']);
    expect(later.code, later.stdout + later.stderr).toBe(0);
  }, 60_000);
});
