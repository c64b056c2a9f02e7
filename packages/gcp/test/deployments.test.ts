import { writeFile } from 'node:fs/promises';
import { createMlscale, type MlscaleClient, MlscaleError } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEndpoint } from '../src/emulator/index.js';
import {
  project,
  startVertexTestSetup,
  type VertexTestSetup,
  type WireMessage,
} from './vertex-test-setup.js';

describe('vertex() deployments on the emulator', () => {
  let setup: VertexTestSetup;
  let client: MlscaleClient;

  beforeAll(async () => {
    setup = await startVertexTestSetup({
      // Doubles each number; a model whose artifact says "bad" crashes, as a broken new version would.
      predictor: ({ model, instances }) => {
        const artifact = [...setup.emulator.storageObjects.values()].find((object) =>
          `gs://${object.bucket}/${object.name}`.startsWith(model.artifactUri ?? '-'),
        );
        if (artifact?.data.toString().includes('bad')) throw new Error('model crashed');
        // A request for 999 hangs, like a model stuck on a request: the caller's signal must end it.
        if (instances[0] === 999)
          return new Promise<unknown[]>((resolve) => setTimeout(() => resolve([0]), 5_000));
        return instances.map((instance) =>
          Array.isArray(instance) ? instance.map((value) => Number(value) * 2) : Number(instance) * 2,
        );
      },
    });
    client = createMlscale({
      backend: setup.backend,
      polling: { minDelayMs: 5, maxDelayMs: 50 },
      retry: false,
    });
  }, 60_000);

  afterAll(async () => {
    await setup?.cleanup();
  }, 60_000);

  const endpointOf = (name: string): StoredEndpoint =>
    [...setup.emulator.state.endpoints.values()].find(
      (endpoint) => endpoint.labels['mlscale-deployment'] === name,
    )!;
  const requestsOf = (method: string, since = 0) =>
    setup.emulator.requests
      .slice(since)
      .filter((request) => request.method === method)
      .map((request) => request.request as WireMessage);

  it('sends UploadModel, CreateEndpoint and DeployModel with the machine, accelerator, spot, autoscaling and keys of the spec', async () => {
    const before = setup.emulator.requests.length;
    const status = await client.deploy({
      name: 'autoscaled',
      model: { uri: setup.modelPath },
      instance: { type: 'g2-standard-8', accelerator: { type: 'nvidia-l4', count: 1 } },
      replicas: 2,
      autoscaling: { minReplicas: 2, maxReplicas: 6, target: { metric: 'gpuUtilization', value: 70 } },
      encryption: { keyId: 'projects/p/locations/us-central1/keyRings/r/cryptoKeys/k' },
      environment: { LOG_LEVEL: 'debug' },
      tags: { team: 'vision', 'cost:center': 'ml' },
      providerOptions: { gcp: { spot: true } },
    });
    expect(status.state).toBe('InService');
    expect(status.replicas).toEqual({ desired: 2, ready: 2 });
    expect(status.traffic).toHaveLength(1);
    expect(status.traffic[0]!.weight).toBe(100);

    const [upload] = requestsOf('ModelService.UploadModel', before);
    expect(upload!.model.artifactUri).toMatch(
      /^gs:\/\/mlscale-artifacts\/mlscale\/artifacts\/[0-9a-f]{64}\/$/,
    );
    expect(upload!.model.containerSpec.imageUri).toBe(
      'us-docker.pkg.dev/mlscale/images/mlscale-server:latest',
    );
    expect(upload!.model.containerSpec.ports).toEqual([{ containerPort: 8080 }]);
    expect(upload!.model.containerSpec.env).toEqual(
      expect.arrayContaining([
        { name: 'LOG_LEVEL', value: 'debug' },
        { name: 'MLSCALE_MODEL_FILE', value: 'model.onnx' },
      ]),
    );
    expect(upload!.model.encryptionSpec).toEqual({
      kmsKeyName: 'projects/p/locations/us-central1/keyRings/r/cryptoKeys/k',
    });

    const [create] = requestsOf('EndpointService.CreateEndpoint', before);
    expect(create!.endpoint.displayName).toBe('autoscaled');
    expect(create!.endpoint.labels).toMatchObject({
      'mlscale-deployment': 'autoscaled',
      'mlscale-managed': 'true',
      team: 'vision',
      cost_center: 'ml',
    });
    expect(create!.endpoint.encryptionSpec).toEqual({
      kmsKeyName: 'projects/p/locations/us-central1/keyRings/r/cryptoKeys/k',
    });

    const [deploy] = requestsOf('EndpointService.DeployModel', before);
    expect(deploy!.trafficSplit).toEqual({ '0': 100 });
    expect(deploy!.deployedModel.dedicatedResources).toEqual({
      machineSpec: { machineType: 'g2-standard-8', acceleratorType: 'NVIDIA_L4', acceleratorCount: 1 },
      minReplicaCount: 2,
      maxReplicaCount: 6,
      autoscalingMetricSpecs: [
        { metricName: 'aiplatform.googleapis.com/prediction/online/accelerator/duty_cycle', target: 70 },
      ],
      spot: true,
    });

    // The artifact went to Cloud Storage once, under its content hash.
    const objects = [...setup.emulator.storageObjects.keys()];
    expect(objects).toEqual([`${upload!.model.artifactUri.replace('gs://', '')}model.onnx`]);
  });

  it('autoscales and scales with MutateDeployedModel', async () => {
    const before = setup.emulator.requests.length;
    const autoscaled = await client.autoscale('autoscaled', {
      minReplicas: 1,
      maxReplicas: 4,
      target: { metric: 'requestsPerSecond', value: 5 },
    });
    expect(autoscaled.state).toBe('InService');
    const [mutate] = requestsOf('EndpointService.MutateDeployedModel', before);
    expect(mutate!.updateMask.paths).toEqual([
      'dedicated_resources.min_replica_count',
      'dedicated_resources.max_replica_count',
      'dedicated_resources.autoscaling_metric_specs',
    ]);
    expect(mutate!.deployedModel.dedicatedResources).toEqual({
      minReplicaCount: 1,
      maxReplicaCount: 4,
      autoscalingMetricSpecs: [
        { metricName: 'aiplatform.googleapis.com/prediction/online/request_count', target: 300 },
      ],
    });
    const scaled = await client.scale('autoscaled', 3);
    expect(scaled.replicas).toEqual({ desired: 3, ready: 3 });
    expect(scaled.autoscaling).toBeUndefined();
    expect(endpointOf('autoscaled').deployedModels[0]!.dedicatedResources).toMatchObject({
      minReplicaCount: 3,
      maxReplicaCount: 3,
      autoscalingMetricSpecs: [],
    });
    await expect(
      client.autoscale('autoscaled', {
        minReplicas: 1,
        maxReplicas: 3,
        target: { metric: 'latencyP95', value: 100 },
      }),
    ).rejects.toSatisfy(
      (error) => MlscaleError.hasCode(error, 'InvalidSpec') && /latencyP95/.test((error as Error).message),
    );
    await client.delete('autoscaled');
    expect(endpointOf('autoscaled')).toBeUndefined();
  });

  it('predicts with V2 tensors: rows become instances, several inputs become objects', async () => {
    await client.deploy({ name: 'doubler', model: { uri: setup.modelPath } });
    const response = await client.predict('doubler', {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] }],
    });
    expect(response.outputs).toEqual([
      { name: 'predictions', datatype: 'FP32', shape: [2, 2], data: [2, 4, 6, 8] },
    ]);
    const [predict] = requestsOf('PredictionService.Predict').slice(-1);
    expect(predict!.instances).toHaveLength(2);
    await expect(
      client.predict('doubler', {
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [2], data: [1, 2] },
          { name: 'b', datatype: 'FP32', shape: [3], data: [1, 2, 3] },
        ],
      }),
    ).rejects.toSatisfy(
      (error) =>
        MlscaleError.hasCode(error, 'InvalidSpec') && /inputs\[1\]\.shape/.test((error as Error).message),
    );
  });

  it('cancels a prediction when the caller aborts', async () => {
    const controller = new AbortController();
    const predicting = client.predict(
      'doubler',
      { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [999] }] },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 200);
    const error = await predicting.catch((caught: unknown) => caught);
    expect(MlscaleError.isInstance(error) ? error.code : error).toBe('Aborted');
  });

  it('splits traffic between two model versions and routes requests by the split', async () => {
    const second = `${setup.modelPath}.b.onnx`;
    await writeFile(second, 'another version');
    const status = await client.deploy({
      name: 'split',
      model: { uri: setup.modelPath },
      traffic: [
        { model: { uri: setup.modelPath }, weight: 70 },
        { model: { uri: second }, weight: 30 },
      ],
      environment: { HF_TOKEN: 'hf_secret_value' },
    });
    expect(status.traffic.map((share) => share.weight).sort()).toEqual([30, 70]);
    const endpoint = endpointOf('split');
    expect(Object.values(endpoint.trafficSplit).sort()).toEqual([30, 70]);
    // The record kept on the endpoint has the secret sealed.
    expect(endpoint.description).not.toContain('hf_secret_value');
    expect((await client.get('split')).specHash).toBe(status.specHash);
    const before = setup.emulator.requests.length;
    for (let index = 0; index < 10; index++) {
      await client.predict('split', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [index] }] });
    }
    const routed = setup.emulator.requests
      .slice(before)
      .filter((request) => request.method === 'PredictionService.Predict');
    expect(routed).toHaveLength(10);
    const heavier = Object.entries(endpoint.trafficSplit).find(([, weight]) => weight === 70)![0];
    // The access logs say which deployed model served each request.
    const servedBy: string[] = [];
    for await (const entry of client.logs({ deployment: 'split' }))
      servedBy.push(String(entry.fields?.deployed_model_id));
    expect(servedBy.filter((id) => id === heavier)).toHaveLength(7);
    await client.delete('split');
  });

  it('rolls a new version out as a canary, then undeploys the old one', async () => {
    const first = endpointOf('doubler').deployedModels[0]!;
    const before = setup.emulator.requests.length;
    const newModel = `${setup.modelPath}.v2.onnx`;
    await writeFile(newModel, 'version 2');
    const updated = await client.update({
      name: 'doubler',
      model: { uri: newModel },
      rollout: { steps: [10, 100], stepSeconds: 0, maxErrorRate: 0.5, minRequests: 1 },
    });
    expect(updated.state).toBe('InService');
    const deploys = requestsOf('EndpointService.DeployModel', before);
    expect(deploys).toHaveLength(1);
    expect(deploys[0]!.trafficSplit).toEqual({ '0': 0, [first.id]: 100 });
    const endpoint = endpointOf('doubler');
    const newId = endpoint.deployedModels[0]!.id;
    const splits = requestsOf('EndpointService.UpdateEndpoint', before)
      .filter((request) => request.updateMask.paths.includes('traffic_split'))
      .map((request) => request.endpoint.trafficSplit);
    expect(splits).toEqual([{ [newId]: 10, [first.id]: 90 }, { [newId]: 100 }]);
    expect(
      requestsOf('EndpointService.UndeployModel', before).map((request) => request.deployedModelId),
    ).toEqual([first.id]);
    expect(endpoint.deployedModels.map((deployed) => deployed.id)).toEqual([newId]);
    expect(updated.traffic).toEqual([{ version: endpoint.deployedModels[0]!.displayName, weight: 100 }]);
  });

  it('rolls back to the previous split when the canary fails more requests than allowed', async () => {
    const endpoint = endpointOf('doubler');
    const previous = { ...endpoint.trafficSplit };
    const [serving] = endpoint.deployedModels;
    const badModel = `${setup.modelPath}.bad.onnx`;
    await writeFile(badModel, 'a bad version 3');
    const badSpec = {
      name: 'doubler',
      model: { uri: badModel },
      rollout: { steps: [50, 100], stepSeconds: 3, maxErrorRate: 0.2, minRequests: 2 },
    } as const;
    let traffic = true;
    const load = (async () => {
      while (traffic) {
        await client
          .predict('doubler', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] })
          .catch(() => undefined);
      }
    })();
    const error = await client.update(badSpec).catch((caught: unknown) => caught);
    traffic = false;
    await load;
    expect(MlscaleError.isInstance(error) ? error.code : error).toBe('BackendFailure');
    expect((error as Error).message).toMatch(/rolled back at 50% traffic/);
    // The refusal put the previous split back at once; the next steps remove the canary.
    expect(endpointOf('doubler').trafficSplit).toEqual(previous);
    const status = await client.reconcile('doubler');
    const after = endpointOf('doubler');
    expect(after.trafficSplit).toEqual(previous);
    expect(after.deployedModels.map((deployed) => deployed.id)).toEqual([serving!.id]);
    expect(status?.state).toBe('InService');
    expect(status?.stateReason).toMatch(/refused: Update of 'doubler' rolled back at 50% traffic/);
    expect(status?.spec.model).toEqual({ uri: `${setup.modelPath}.v2.onnx`, format: 'onnx' });
  }, 60_000);

  it('keeps the record in the endpoint description, with secrets sealed, and rolls out a secret-only change as a new model', async () => {
    const spec = {
      name: 'rotating',
      model: { uri: setup.modelPath },
      environment: { API_TOKEN: 'tok-first-4c1f', LOG_LEVEL: 'info' },
    };
    const first = await client.deploy(spec);
    const endpoint = endpointOf('rotating');
    expect(endpoint.name).toBe(`projects/${project}/locations/us-central1/endpoints/mlscale-rotating`);
    expect(endpoint.description).toMatch(/^mlscale deployment record v1: [A-Za-z0-9_-]+$/);
    expect(endpoint.description).not.toContain('tok-first-4c1f');
    expect(JSON.stringify(endpoint.labels)).not.toContain('tok-first');
    const [firstModel] = endpoint.deployedModels;
    const before = setup.emulator.requests.length;
    const rotated = await client.update({
      name: 'rotating',
      environment: { ...spec.environment, API_TOKEN: 'tok-second-9e2a' },
    });
    expect(rotated.specHash).not.toBe(first.specHash);
    // A new model with the new value, deployed beside the old one with no traffic, then all traffic.
    const [upload] = requestsOf('ModelService.UploadModel', before);
    expect(upload!.model.containerSpec.env).toEqual(
      expect.arrayContaining([{ name: 'API_TOKEN', value: 'tok-second-9e2a' }]),
    );
    const [deploy] = requestsOf('EndpointService.DeployModel', before);
    expect(deploy!.trafficSplit).toEqual({ '0': 0, [firstModel!.id]: 100 });
    const after = endpointOf('rotating');
    expect(after.deployedModels.map((deployed) => deployed.id)).not.toContain(firstModel!.id);
    expect(Object.values(after.trafficSplit)).toEqual([100]);
    // The old model was deleted once nothing served it.
    expect(requestsOf('ModelService.DeleteModel', before).map((request) => request.name)).toEqual([
      firstModel!.model,
    ]);
    expect(setup.emulator.inspection.containerEnvironment('rotating')?.API_TOKEN).toBe('tok-second-9e2a');
    await client.delete('rotating');
  });

  it('keeps tags whose values are secrets out of labels, and still records the deployment', async () => {
    // A secret by its tag's name: neither it (lowercased) nor its seal may become a label value.
    const token = `Tok-${'7F3a9c'.repeat(6)}`;
    const before = setup.emulator.requests.length;
    const status = await client.deploy({
      name: 'tagged',
      model: { uri: setup.modelPath },
      tags: { 'api-token': token, team: 'vision' },
    });
    expect(status.state).toBe('InService');
    const sent = setup.emulator.requests
      .slice(before)
      .map((request) => request.request as WireMessage)
      .flatMap((request) => [request.endpoint?.labels, request.model?.labels])
      .filter((labels): labels is Record<string, string> => typeof labels === 'object' && labels !== null);
    // CreateEndpoint, UploadModel, and the UpdateEndpoint that records convergence.
    expect(sent.length).toBeGreaterThanOrEqual(3);
    for (const labels of [...sent, endpointOf('tagged').labels]) {
      expect(labels).not.toHaveProperty('api-token');
      expect(labels.team).toBe('vision');
      expect(JSON.stringify(labels).toLowerCase()).not.toMatch(/tok-|7f3a9c|sealed/);
    }
    await client.delete('tagged');
  });

  it('takes one step per reconcile without waiting on operations, and never deploys a model twice', async () => {
    setup.emulator.setDelays({ operationMs: 20, deployExtraMs: 1_500 });
    try {
      await client.deploy({ name: 'stepwise', model: { uri: setup.modelPath } }, { wait: false });
      const backend = setup.backend.deployments;
      const deploysOf = () =>
        requestsOf('EndpointService.DeployModel').filter((request) =>
          String(request.endpoint).endsWith('/mlscale-stepwise'),
        ).length;
      for (let attempt = 0; attempt < 200 && deploysOf() === 0; attempt++) {
        await backend.doReconcile('stepwise', {});
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(deploysOf()).toBe(1);
      const started = Date.now();
      const during = await backend.doReconcile('stepwise', {});
      await backend.doReconcile('stepwise', {});
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(during?.state).toBe('Creating');
      expect(during?.stateReason).toMatch(/DeployModel in progress/);
      expect(deploysOf()).toBe(1);
      const served = await client.reconcile('stepwise');
      expect(served?.state).toBe('InService');
      expect(deploysOf()).toBe(1);
    } finally {
      setup.emulator.setDelays({});
    }
    await client.delete('stepwise');
  });
});
