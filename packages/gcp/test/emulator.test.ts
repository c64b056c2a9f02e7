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
      details: expect.stringContaining('not on the endpoint'),
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
    ).rejects.toMatchObject({ code: 3, details: expect.stringContaining('sum to 100') });
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
