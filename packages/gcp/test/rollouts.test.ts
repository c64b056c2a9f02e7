import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMlscale, deploymentSpecSchema, type MlscaleClient, MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVertexTestSetup, type VertexTestSetup, type WireMessage } from './vertex-test-setup.js';

const threeWide = {
  inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3] }],
  outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 3] }],
};
const hundredWide = {
  inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 100] }],
  outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 100] }],
};

describe('vertex() rollouts: the signature gate and traffic_split limits on the emulator', () => {
  let setup: VertexTestSetup;
  let client: MlscaleClient;
  let directory: string;
  const warnings: string[] = [];

  beforeAll(async () => {
    setup = await startVertexTestSetup();
    directory = await mkdtemp(join(tmpdir(), 'mlscale-gcp-rollouts-'));
    client = createMlscale({
      backend: setup.backend,
      polling: { minDelayMs: 5, maxDelayMs: 50 },
      retry: false,
      logger: { debug() {}, info() {}, warn: (message: string) => warnings.push(message), error() {} },
    });
  }, 60_000);

  afterAll(async () => {
    await setup?.cleanup();
    if (directory) await rm(directory, { recursive: true, force: true });
  }, 60_000);

  const methodsSince = (since: number) =>
    setup.emulator.requests.slice(since).map((request) => request.method);
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => expect.unreachable('expected a refusal'),
      (error: unknown) => {
        if (!MlscaleError.isInstance(error)) throw error;
        return error;
      },
    );

  it('refuses an update to a model of another signature before any model is uploaded or deployed', async () => {
    await client.deploy({ name: 'gated', model: { uri: setup.modelPath } });
    const before = setup.emulator.requests.length;
    const refused = await refusal(
      client.update({ name: 'gated', model: { uri: setup.incompatibleModelPath } }),
    );
    expect(refused.code).toBe('InvalidSpec');
    expect(refused.message).toMatch(/would break callers/);
    expect(refused.issues).toEqual([
      { path: 'model', message: expect.stringMatching(/^input 'input' takes \[\?, 100\], was \[\?, 3\]/) },
      expect.objectContaining({ path: 'model', message: expect.stringMatching(/^output 'output'/) }),
    ]);
    const methods = methodsSince(before);
    expect(methods).not.toContain('ModelService.UploadModel');
    expect(methods).not.toContain('EndpointService.DeployModel');
    expect(methods).not.toContain('EndpointService.UpdateEndpoint');
    // The same-signature version goes through the gate and rolls out.
    const updated = await client.update({
      name: 'gated',
      model: { uri: setup.secondModelPath },
      rollout: { steps: [50, 100], stepSeconds: 0 },
    });
    expect(updated.state).toBe('InService');
    expect(warnings.filter((warning) => /signature/.test(warning))).toEqual([]);
  });

  it('records the signature with the version it uploads and reads what the endpoint serves from it', async () => {
    const path = join(directory, 'replaced.onnx');
    await copyFile(setup.modelPath, path);
    await client.deploy({ name: 'recorded', model: { uri: path } });
    const upload = setup.emulator.requests
      .filter((request) => request.method === 'ModelService.UploadModel')
      .map((request) => request.request as WireMessage)
      .find((request) => request.model.labels['mlscale-deployment'] === 'recorded')!;
    const description = String(upload.model.versionDescription);
    expect(JSON.parse(description.replace(/^mlscale model version: /, '')).signature).toEqual(threeWide);
    // The file changes on disk after it was deployed: what the endpoint serves is still the recorded one.
    await copyFile(setup.incompatibleModelPath, path);
    const options = { signal: undefined };
    expect(await setup.backend.deployments.doResolveSignature!({ deployment: 'recorded' }, options)).toEqual(
      threeWide,
    );
    expect(
      await setup.backend.deployments.doResolveSignature!({ model: { uri: path, format: 'onnx' } }, options),
    ).toEqual(hundredWide);
    expect(
      await setup.backend.deployments.doResolveSignature!({ deployment: 'absent' }, options),
    ).toBeUndefined();
  });

  it('resolves a registered version from what it recorded at registration, or from its artifact in the bucket', async () => {
    const registered = await client.models.register({ name: 'wide', path: setup.incompatibleModelPath });
    const options = { signal: undefined };
    expect(
      await setup.backend.deployments.doResolveSignature!(
        { model: { name: 'wide', version: registered.version } },
        options,
      ),
    ).toEqual(hundredWide);
    // A version registered from a gs:// artifact mlscale did not upload: its bytes come from the bucket.
    const uploaded = [...setup.emulator.storageObjects.values()].find((object) =>
      object.name.endsWith('/model-wide.onnx'),
    )!;
    const fromBucket = await client.models.register({
      name: 'bucketed',
      path: `gs://${uploaded.bucket}/${uploaded.name}`,
    });
    const model = [...setup.emulator.state.models.values()]
      .flat()
      .find((version) => version.labels['mlscale-model'] === 'bucketed')!;
    expect(String(model.versionDescription)).toContain('"signature"');
    // As a version another tool registered would be: nothing recorded, so the artifact is read.
    model.versionDescription = '';
    expect(
      await setup.backend.deployments.doResolveSignature!(
        { model: { name: 'bucketed', version: fromBucket.version } },
        options,
      ),
    ).toEqual(hundredWide);
    await expect(
      setup.backend.deployments.doResolveSignature!(
        { model: { name: 'unregistered', version: 'latest' } },
        options,
      ),
    ).rejects.toSatisfy((error) => MlscaleError.hasCode(error, 'NotFound'));
  });

  it("refuses fractional steps and weights, which Vertex's integer traffic_split cannot express, before any call", async () => {
    let before = setup.emulator.requests.length;
    const stepped = await refusal(
      client.update({ name: 'gated', model: { uri: setup.modelPath }, rollout: { steps: [12.5, 100] } }),
    );
    expect(stepped.code).toBe('InvalidSpec');
    expect(stepped.issues).toEqual([
      {
        path: 'rollout.steps[0]',
        message:
          "expected a whole percentage, got 12.5: Vertex AI's Endpoint.traffic_split takes whole percentages (map<string, int32>) adding up to 100; use 12 or 13",
      },
    ]);
    // An update reads the recorded spec to merge the change onto; nothing is written.
    expect(methodsSince(before).filter((method) => !/\.(Get|List)\w+$/.test(method))).toEqual([]);
    before = setup.emulator.requests.length;
    const split = deploymentSpecSchema.parse({
      name: 'halves',
      model: { uri: setup.modelPath },
      traffic: [
        { model: { uri: setup.modelPath }, weight: 87.5 },
        { model: { uri: setup.secondModelPath }, weight: 12.5 },
      ],
    });
    const deployed = await refusal(client.deploy(split));
    expect(deployed.issues.map((issue) => issue.path)).toEqual(['traffic[0].weight', 'traffic[1].weight']);
    expect(methodsSince(before)).toEqual([]);
    // A caller of the backend itself, without the client, meets the same refusal before any Vertex call.
    const direct = await refusal(setup.backend.deployments.doCreate(split, { signal: undefined }));
    expect(direct.issues).toEqual(deployed.issues);
    expect(methodsSince(before)).toEqual([]);
  });
});
