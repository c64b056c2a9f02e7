import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EndpointServiceClient } from '@google-cloud/aiplatform/build/src/v1/endpoint_service_client.js';
import { ModelServiceClient } from '@google-cloud/aiplatform/build/src/v1/model_service_client.js';
import { Storage } from '@google-cloud/storage';
import { PassThroughClient } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpPredictor, startVertexEmulator, type VertexEmulator } from '../src/emulator/index.js';

const parent = 'projects/wire-test/locations/us-central1';

/** The emulator as any Vertex SDK user meets it: the official clients, no mlscale adapter in between. */
describe('the Vertex emulator over the wire', () => {
  let emulator: VertexEmulator;
  let endpoints: EndpointServiceClient;
  let models: ModelServiceClient;

  beforeAll(async () => {
    emulator = await startVertexEmulator({ project: 'wire-test' });
    const options = {
      apiEndpoint: emulator.apiEndpoint,
      port: emulator.port,
      sslCreds: emulator.sslCreds,
      authClient: new PassThroughClient(),
    };
    endpoints = new EndpointServiceClient(options);
    models = new ModelServiceClient(options);
  }, 60_000);

  afterAll(async () => {
    await endpoints?.close();
    await models?.close();
    await emulator?.close();
  });

  it('runs long-running operations that the SDK helpers wait on', async () => {
    const [operation] = await endpoints.createEndpoint({ parent, endpoint: { displayName: 'wire' } });
    expect(operation.done).toBe(false);
    const [endpoint] = await operation.promise();
    expect(endpoint.name).toMatch(/^projects\/wire-test\/locations\/us-central1\/endpoints\/\d+$/);
    expect((await endpoints.checkCreateEndpointProgress(operation.name!)).done).toBe(true);
  });

  it('validates like Vertex: other projects, traffic splits, replica counts', async () => {
    await expect(
      endpoints.createEndpoint({
        parent: 'projects/other/locations/us-central1',
        endpoint: { displayName: 'x' },
      }),
    ).rejects.toMatchObject({ code: 7 });
    const [[endpoint]] = await endpoints.listEndpoints({ parent });
    await expect(
      endpoints.updateEndpoint({
        endpoint: { name: endpoint!.name, trafficSplit: { '999': 100 } },
        updateMask: { paths: ['traffic_split'] },
      }),
    ).rejects.toMatchObject({
      code: 3,
      details: 'The following DeployedModel ID(s) [999] do not exist.',
    });
    const [upload] = await models.uploadModel({
      parent,
      model: { displayName: 'm', artifactUri: 'gs://b/m/', containerSpec: { imageUri: 'image' } },
    });
    const [uploaded] = await upload.promise();
    await expect(
      endpoints.deployModel({
        endpoint: endpoint!.name,
        deployedModel: {
          model: uploaded.model,
          dedicatedResources: { machineSpec: { machineType: 'n1-standard-2' }, minReplicaCount: 0 },
        },
        trafficSplit: { '0': 100 },
      }),
    ).rejects.toMatchObject({ code: 3, details: expect.stringContaining('min_replica_count') });
    await expect(
      endpoints.deployModel({
        endpoint: endpoint!.name,
        deployedModel: {
          model: uploaded.model,
          dedicatedResources: { machineSpec: { machineType: 'n1-standard-2' }, minReplicaCount: 1 },
        },
        trafficSplit: { '0': 60 },
      }),
    ).rejects.toMatchObject({ code: 3, details: expect.stringContaining('must add up to 100') });
    await expect(endpoints.deleteEndpoint({ name: `${parent}/endpoints/404` })).rejects.toMatchObject({
      code: 5,
    });
  });

  it('injects UNAVAILABLE and failed operations', async () => {
    emulator.setFaults({
      unavailable: { calls: 1, methods: ['ListEndpoints'] },
      failOperations: { methods: ['CreateEndpoint'], message: 'boom' },
    });
    await expect(endpoints.listEndpoints({ parent })).rejects.toMatchObject({ code: 14 });
    const [operation] = await endpoints.createEndpoint({ parent, endpoint: { displayName: 'doomed' } });
    await expect(operation.promise()).rejects.toMatchObject({ message: expect.stringContaining('boom') });
  });

  it('refuses an UpdateEndpoint with a stale etag (ABORTED), and fails the CreateEndpoint of a key it cannot use', async () => {
    const [create] = await endpoints.createEndpoint({
      parent,
      endpointId: 'etags',
      endpoint: { displayName: 'etags' },
    });
    const [created] = await create.promise();
    const [first] = await endpoints.updateEndpoint({
      endpoint: { name: created.name, etag: created.etag, description: 'first' },
      updateMask: { paths: ['description'] },
    });
    expect(first.etag).not.toBe(created.etag);
    // A writer that read before the first write: refused, and the first write stays.
    await expect(
      endpoints.updateEndpoint({
        endpoint: { name: created.name, etag: created.etag, description: 'stale' },
        updateMask: { paths: ['description'] },
      }),
    ).rejects.toMatchObject({
      code: 10,
      details: expect.stringContaining('does not match its current etag'),
    });
    // No etag: a blind overwrite.
    await endpoints.updateEndpoint({
      endpoint: { name: created.name, description: 'blind' },
      updateMask: { paths: ['description'] },
    });
    expect(emulator.state.endpoints.get(created.name!)?.description).toBe('blind');

    const key = `${parent}/keyRings/r/cryptoKeys/locked`;
    emulator.setFaults({ unusableEncryptionKeys: [key] });
    const [locked] = await endpoints.createEndpoint({
      parent,
      endpoint: { displayName: 'locked', encryptionSpec: { kmsKeyName: key } },
    });
    expect(locked.done).toBe(false);
    await expect(locked.promise()).rejects.toMatchObject({
      code: 9,
      message: expect.stringContaining(`Provided CryptoKey ${key} cannot be used in Vertex AI service`),
    });
    emulator.setFaults({});
  });

  it('refuses what Vertex refuses: taken ids, concurrent deployment operations, undeploying a model with traffic, bad labels', async () => {
    const [create] = await endpoints.createEndpoint({
      parent,
      endpointId: 'rules',
      endpoint: { displayName: 'rules' },
    });
    // The id is taken from the request on, while the create is still in progress.
    await expect(
      endpoints.createEndpoint({ parent, endpointId: 'rules', endpoint: { displayName: 'again' } }),
    ).rejects.toMatchObject({ code: 6 });
    const [endpoint] = await create.promise();
    expect(endpoint.name).toBe(`${parent}/endpoints/rules`);
    await expect(
      endpoints.createEndpoint({ parent, endpointId: 'Not_An_Id', endpoint: { displayName: 'x' } }),
    ).rejects.toMatchObject({ code: 3, details: expect.stringContaining('endpoint_id') });
    await expect(
      endpoints.createEndpoint({ parent, endpoint: { displayName: 'x', labels: { Team: 'a' } } }),
    ).rejects.toMatchObject({ code: 3, details: expect.stringContaining('label key "Team"') });
    await expect(
      models.uploadModel({
        parent,
        model: { displayName: 'x', containerSpec: { imageUri: 'i' }, labels: { team: 'A b' } },
      }),
    ).rejects.toMatchObject({ code: 3 });
    const tooMany = Object.fromEntries(Array.from({ length: 65 }, (_, index) => [`k${index}`, 'v']));
    await expect(
      endpoints.updateEndpoint({
        endpoint: { name: endpoint.name, labels: tooMany },
        updateMask: { paths: ['labels'] },
      }),
    ).rejects.toMatchObject({ code: 3, details: expect.stringContaining('at most 64') });

    const [upload] = await models.uploadModel({
      parent,
      modelId: 'rules-model',
      model: { displayName: 'm', containerSpec: { imageUri: 'image' } },
    });
    await expect(
      models.uploadModel({
        parent,
        modelId: 'rules-model',
        model: { displayName: 'm', containerSpec: { imageUri: 'i' } },
      }),
    ).rejects.toMatchObject({ code: 6 });
    const [uploaded] = await upload.promise();
    const resources = {
      machineSpec: { machineType: 'n1-standard-2' },
      minReplicaCount: 1,
      maxReplicaCount: 1,
    };
    const [first] = await endpoints.deployModel({
      endpoint: endpoint.name,
      deployedModel: { id: '111', model: uploaded.model, dedicatedResources: resources },
      trafficSplit: { '0': 100 },
    });
    // One deployment operation at a time per endpoint.
    await expect(
      endpoints.deployModel({
        endpoint: endpoint.name,
        deployedModel: { id: '222', model: uploaded.model, dedicatedResources: resources },
        trafficSplit: { '0': 0, '111': 100 },
      }),
    ).rejects.toMatchObject({ code: 9, details: expect.stringContaining('in progress') });
    await first.promise();
    const [second] = await endpoints.deployModel({
      endpoint: endpoint.name,
      deployedModel: { id: '222', model: uploaded.model, dedicatedResources: resources },
      trafficSplit: { '0': 0, '111': 100 },
    });
    await second.promise();
    await expect(
      endpoints.mutateDeployedModel({
        endpoint: endpoint.name,
        deployedModel: { id: '222', dedicatedResources: { minReplicaCount: 3, maxReplicaCount: 2 } },
        updateMask: {
          paths: ['dedicated_resources.min_replica_count', 'dedicated_resources.max_replica_count'],
        },
      }),
    ).rejects.toMatchObject({ code: 3, details: expect.stringContaining('max_replica_count') });
    // A model with traffic is undeployed only with a split that takes its share away.
    await expect(
      endpoints.undeployModel({ endpoint: endpoint.name, deployedModelId: '111' }),
    ).rejects.toMatchObject({
      code: 9,
      details: expect.stringContaining('receives 100% of traffic'),
    });
    const [undeploy] = await endpoints.undeployModel({
      endpoint: endpoint.name,
      deployedModelId: '111',
      trafficSplit: { '222': 100 },
    });
    await undeploy.promise();
    await expect(models.deleteModel({ name: uploaded.model })).rejects.toMatchObject({ code: 9 });
  });

  it('pages list answers with page_size and page_token', async () => {
    for (const index of [1, 2, 3]) {
      const [operation] = await endpoints.createEndpoint({
        parent,
        endpoint: { displayName: `paged-${index}` },
      });
      await operation.promise();
    }
    const [page, next, response] = await endpoints.listEndpoints(
      { parent, pageSize: 2 },
      { autoPaginate: false },
    );
    expect(page).toHaveLength(2);
    expect(response?.nextPageToken).toBeTruthy();
    const [rest] = await endpoints.listEndpoints(next!, { autoPaginate: false });
    expect(rest.length).toBeGreaterThan(0);
    expect(new Set([...page, ...rest].map((item) => item.name)).size).toBe(page.length + rest.length);
  });

  it('offers an inspection API: the RPC log, a listener after each request, faults per RPC, inventory and a dump', async () => {
    const { inspection } = emulator;
    inspection.resetRequests();
    const heard: string[] = [];
    const stop = inspection.onRequest((method) => heard.push(method));
    inspection.injectFault('accessDenied', 'CreateEndpoint', 1);
    inspection.injectFault('serverError', 'GetEndpoint', 1);
    inspection.injectFault('throttling', 'ListEndpoints', 1);
    await expect(
      endpoints.createEndpoint({ parent, endpoint: { displayName: 'denied' } }),
    ).rejects.toMatchObject({
      code: 7,
      details: expect.stringMatching(/^Permission 'aiplatform\.endpoints\.create' denied on resource/),
    });
    await expect(endpoints.getEndpoint({ name: `${parent}/endpoints/rules` })).rejects.toMatchObject({
      code: 13,
    });
    await expect(endpoints.listEndpoints({ parent })).rejects.toMatchObject({ code: 8 });
    await endpoints.getEndpoint({ name: `${parent}/endpoints/rules` });
    stop();
    expect(inspection.requests()).toEqual(['CreateEndpoint', 'GetEndpoint', 'ListEndpoints', 'GetEndpoint']);
    // Only requests carried out are announced.
    expect(heard).toEqual(['GetEndpoint']);
    expect(inspection.isMutating('DeployModel')).toBe(true);
    expect(inspection.isMutating('GetOperation')).toBe(false);

    const [upload] = await models.uploadModel({
      parent,
      modelId: 'inspected',
      model: {
        displayName: 'inspected',
        containerSpec: { imageUri: 'image', env: [{ name: 'API_TOKEN', value: 'sk-inspected-secret' }] },
        labels: { 'mlscale-deployment': 'inspected' },
      },
    });
    const [uploaded] = await upload.promise();
    const [create] = await endpoints.createEndpoint({
      parent,
      endpointId: 'mlscale-inspected',
      endpoint: { displayName: 'inspected', labels: { 'mlscale-deployment': 'inspected' } },
    });
    const [endpoint] = await create.promise();
    const [deploy] = await endpoints.deployModel({
      endpoint: endpoint.name,
      deployedModel: {
        id: '333',
        model: uploaded.model,
        dedicatedResources: {
          machineSpec: { machineType: 'n1-standard-2' },
          minReplicaCount: 1,
          maxReplicaCount: 3,
        },
      },
      trafficSplit: { '0': 100 },
    });
    await deploy.promise();
    expect(inspection.inventory('inspected')).toEqual({
      endpoints: [endpoint.name],
      deployedModels: [`${endpoint.name}/deployedModels/333`],
      models: [uploaded.model],
    });
    expect(inspection.autoscaling('inspected')).toEqual({ minReplicas: 1, maxReplicas: 3 });
    expect(inspection.containerEnvironment('inspected')).toEqual({ API_TOKEN: 'sk-inspected-secret' });
    const dump = inspection.dump();
    expect(dump).toContain('mlscale-inspected');
    expect(dump).toContain('[container environment]');
    expect(dump).not.toContain('sk-inspected-secret');
  });

  it('serves the Cloud Storage JSON API the storage client uses', async () => {
    const storage = new Storage({ apiEndpoint: emulator.storageEndpoint, projectId: 'wire-test' });
    const file = storage.bucket('bucket').file('dir/hello.txt');
    await file.save('hello, world', { resumable: false, contentType: 'text/plain' });
    const [metadata] = await file.getMetadata();
    expect(metadata.size).toBe('12');
    const [contents] = await file.download();
    expect(contents.toString()).toBe('hello, world');
    expect(await storage.bucket('bucket').file('missing').exists()).toEqual([false]);
  });

  it('forwards Predict to a serving container over HTTP with httpPredictor', async () => {
    // A container that follows the Vertex contract: POST {"instances"} → {"predictions"}, 400 on bad input.
    const received: unknown[] = [];
    const container = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        const parsed = JSON.parse(body) as { instances: number[][] };
        received.push(parsed);
        if (!parsed.instances.every(Array.isArray)) {
          response.writeHead(400).end('instances must be lists');
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            predictions: parsed.instances.map((row) => row.reduce((sum, value) => sum + value, 0)),
          }),
        );
      });
    });
    await new Promise<void>((resolve) => container.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(container.address() as AddressInfo).port}/predict`;
    const forwarding = await startVertexEmulator({ project: 'wire-test', predictor: httpPredictor(url) });
    const { PredictionServiceClient } = await import(
      '@google-cloud/aiplatform/build/src/v1/prediction_service_client.js'
    );
    const options = {
      apiEndpoint: forwarding.apiEndpoint,
      port: forwarding.port,
      sslCreds: forwarding.sslCreds,
      authClient: new PassThroughClient(),
    };
    const endpointClient = new EndpointServiceClient(options);
    const modelClient = new ModelServiceClient(options);
    const predictions = new PredictionServiceClient(options);
    try {
      const [create] = await endpointClient.createEndpoint({ parent, endpoint: { displayName: 'served' } });
      const [endpoint] = await create.promise();
      const [upload] = await modelClient.uploadModel({
        parent,
        model: { displayName: 'm', containerSpec: { imageUri: 'mlscale-server' } },
      });
      const [uploaded] = await upload.promise();
      const [deploy] = await endpointClient.deployModel({
        endpoint: endpoint.name,
        deployedModel: {
          model: uploaded.model,
          dedicatedResources: { machineSpec: { machineType: 'n1-standard-2' }, minReplicaCount: 1 },
        },
        trafficSplit: { '0': 100 },
      });
      await deploy.promise();
      const [response] = await predictions.predict({
        endpoint: endpoint.name,
        instances: [
          { listValue: { values: [{ numberValue: 1 }, { numberValue: 2 }] } },
          { listValue: { values: [{ numberValue: 3 }] } },
        ],
      });
      expect(response.predictions?.map((value) => value.numberValue)).toEqual([3, 3]);
      expect(received).toEqual([{ instances: [[1, 2], [3]] }]);
      await expect(
        predictions.predict({ endpoint: endpoint.name, instances: [{ numberValue: 1 }] }),
      ).rejects.toMatchObject({
        code: 3,
        details: expect.stringContaining('answered 400'),
      });
    } finally {
      await Promise.all([endpointClient.close(), modelClient.close(), predictions.close()]);
      await forwarding.close();
      await new Promise((resolve) => container.close(resolve));
    }
  });
});
