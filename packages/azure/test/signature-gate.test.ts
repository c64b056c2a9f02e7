import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMlscale, type MlscaleClient, MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AzureMlEmulator, startAzureMlEmulator } from '../src/emulator/index.js';
import { type AzureMlBackend, azureml } from '../src/index.js';
import { type Azurite, startAzurite } from './azurite.js';
import { writeOnnxModel } from './onnx-model-file.js';

/**
 * The signature gate on Azure ML: signatures recorded on the model versions mlscale registers, read
 * back for a model and for what an endpoint serves, and an incompatible update refused before Azure
 * receives a single write.
 */
let emulator: AzureMlEmulator;
let azurite: Azurite;
let backend: AzureMlBackend;
let client: MlscaleClient;
let folder = '';
const digits = {
  inputs: [{ name: 'pixels', shape: [-1, 784] }],
  outputs: [{ name: 'scores', shape: [-1, 10] }],
};
const digitsSignature = {
  inputs: [{ name: 'pixels', datatype: 'FP32', shape: [-1, 784] }],
  outputs: [{ name: 'scores', datatype: 'FP32', shape: [-1, 10] }],
};
const paths = { first: '', second: '', wide: '' };

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'mlscale-azure-signatures-'));
  paths.first = join(folder, 'digits-v1.onnx');
  paths.second = join(folder, 'digits-v2.onnx');
  paths.wide = join(folder, 'digits-100-features.onnx');
  writeOnnxModel(paths.first, { ...digits, producer: 'v1' });
  writeOnnxModel(paths.second, { ...digits, producer: 'v2' });
  writeOnnxModel(paths.wide, { ...digits, inputs: [{ name: 'pixels', shape: [-1, 100] }] });
  [emulator, azurite] = await Promise.all([startAzureMlEmulator(), startAzurite()]);
  backend = azureml({ ...emulator.settings, blobServiceUrl: azurite.blobServiceUrl });
  client = createMlscale({
    backend,
    polling: { minDelayMs: 10, maxDelayMs: 100 },
    retry: { baseDelayMs: 10, maxDelayMs: 100 },
  });
}, 90_000);

afterAll(async () => {
  await Promise.all([emulator?.close(), azurite?.close(), rm(folder, { recursive: true, force: true })]);
});

/** The properties Azure holds for a model version. */
async function versionProperties(name: string, version: number) {
  const clients = await backend.clients();
  const { resourceGroup, workspace } = emulator.settings;
  const found = await clients.machineLearning.modelVersions.get(
    resourceGroup,
    workspace,
    name,
    String(version),
  );
  return found.properties.properties ?? {};
}

/** The operations Azure received since the inspection's last reset that change something. */
function writes(): string[] {
  const { inspection } = emulator;
  return inspection
    .requests()
    .filter((request) => inspection.isMutating(request.operation))
    .map((request) => request.operation);
}

describe('doResolveSignature', () => {
  it('records the ONNX signature on the versions it registers and reads it back, unknown for others', async () => {
    const registered = await client.models.register({ name: 'digits', path: paths.first });
    expect(
      JSON.parse((await versionProperties('digits', registered.version))['mlscale.signature'] ?? ''),
    ).toEqual(digitsSignature);
    const { deployments } = backend;
    const resolve = (model: Parameters<NonNullable<typeof deployments.doResolveSignature>>[0]) =>
      deployments.doResolveSignature?.(model, {});
    expect(await resolve({ model: { name: 'digits', version: registered.version } })).toEqual(
      digitsSignature,
    );
    expect(await resolve({ model: { name: 'digits' } })).toEqual(digitsSignature);
    expect(await resolve({ model: { uri: paths.wide, format: 'onnx' } })).toEqual({
      ...digitsSignature,
      inputs: [{ name: 'pixels', datatype: 'FP32', shape: [-1, 100] }],
    });
    // Registered by reference to an artifact mlscale never read: nothing recorded, nothing to compare.
    const elsewhere = await client.models.register({
      name: 'elsewhere',
      path: 'azureml://datastores/workspaceblobstore/paths/elsewhere/model.onnx',
    });
    expect((await versionProperties('elsewhere', elsewhere.version))['mlscale.signature']).toBeUndefined();
    expect(await resolve({ model: { name: 'elsewhere', version: elsewhere.version } })).toBeUndefined();
    expect(await resolve({ model: { uri: paths.first, format: 'pickle' } })).toBeUndefined();
    expect(await resolve({ deployment: 'no-such-api' })).toBeUndefined();
  });

  it('reads what an endpoint serves from the version its live deployment runs', async () => {
    await client.deploy({ name: 'digits-api', model: { uri: paths.first } });
    expect(await backend.deployments.doResolveSignature?.({ deployment: 'digits-api' }, {})).toEqual(
      digitsSignature,
    );
  });
});

describe('an update through createMlscale and azureml()', () => {
  it('refuses a model of another signature with InvalidSpec before any write reaches Azure', async () => {
    const { inspection } = emulator;
    await client.deploy({ name: 'gated-api', model: { uri: paths.first } });
    for (const model of [{ uri: paths.wide }, { name: 'wide', version: 1 }]) {
      if ('name' in model) await client.models.register({ name: 'wide', path: paths.wide });
      inspection.resetRequests();
      const refused = await client.update({ name: 'gated-api', model }).catch((caught: unknown) => caught);
      expect(MlscaleError.hasCode(refused, 'InvalidSpec')).toBe(true);
      expect((refused as MlscaleError).issues).toEqual([
        { path: 'model', message: expect.stringContaining('pixels') },
      ]);
      expect((refused as MlscaleError).message).toContain('rollout.allowSignatureChange');
      expect(writes()).toEqual([]);
    }
    // In steps the change stays refused, still before any write.
    inspection.resetRequests();
    const stepped = await client
      .update({ name: 'gated-api', model: { uri: paths.wide }, rollout: { allowSignatureChange: true } })
      .catch((caught: unknown) => caught);
    expect((stepped as MlscaleError).message).toContain('cannot roll out in steps or split traffic');
    expect(writes()).toEqual([]);
    expect((await client.get('gated-api')).spec.model).toMatchObject({ uri: paths.first });
  });

  it('lets a model of the same signature through, and another one switched at once when allowed', async () => {
    const { inspection } = emulator;
    await client.deploy({ name: 'switched-api', model: { uri: paths.first } });
    inspection.resetRequests();
    await client.update({ name: 'switched-api', model: { uri: paths.second } });
    expect(writes()).toContain('PUT onlineEndpoints/deployments');
    inspection.resetRequests();
    const switched = await client.update({
      name: 'switched-api',
      model: { uri: paths.wide },
      rollout: { steps: [100], allowSignatureChange: true },
    });
    expect(writes()).toContain('PUT onlineEndpoints/deployments');
    expect(switched.traffic).toEqual([{ version: expect.any(String), weight: 100 }]);
    expect(await backend.deployments.doResolveSignature?.({ deployment: 'switched-api' }, {})).toEqual({
      ...digitsSignature,
      inputs: [{ name: 'pixels', datatype: 'FP32', shape: [-1, 100] }],
    });
  });
});
