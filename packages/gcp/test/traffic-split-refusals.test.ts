import { EndpointServiceClient } from '@google-cloud/aiplatform/build/src/v1/endpoint_service_client.js';
import { ModelServiceClient } from '@google-cloud/aiplatform/build/src/v1/model_service_client.js';
import { PassThroughClient } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVertexEmulator, type VertexEmulator } from '../src/emulator/index.js';

const parent = 'projects/split-test/locations/us-central1';
const resources = { machineSpec: { machineType: 'n1-standard-2' }, minReplicaCount: 1, maxReplicaCount: 1 };

/** Traffic splits Vertex refuses, sent with Google's own client: the code and the message come back. */
describe('the Vertex emulator refuses traffic splits as Vertex does', () => {
  let emulator: VertexEmulator;
  let endpoints: EndpointServiceClient;
  let models: ModelServiceClient;
  let endpointName: string;
  let modelName: string;
  let servingId: string;

  beforeAll(async () => {
    emulator = await startVertexEmulator({ project: 'split-test' });
    const options = {
      apiEndpoint: emulator.apiEndpoint,
      port: emulator.port,
      sslCreds: emulator.sslCreds,
      authClient: new PassThroughClient(),
    };
    endpoints = new EndpointServiceClient(options);
    models = new ModelServiceClient(options);
    const [created] = await endpoints.createEndpoint({ parent, endpoint: { displayName: 'split' } });
    endpointName = (await created.promise())[0].name!;
    const [upload] = await models.uploadModel({
      parent,
      model: { displayName: 'm', artifactUri: 'gs://b/m/', containerSpec: { imageUri: 'image' } },
    });
    modelName = (await upload.promise())[0].model!;
    const [deploy] = await endpoints.deployModel({
      endpoint: endpointName,
      deployedModel: { model: modelName, dedicatedResources: resources },
      trafficSplit: { '0': 100 },
    });
    servingId = (await deploy.promise())[0].deployedModel!.id!;
  }, 60_000);

  afterAll(async () => {
    await endpoints?.close();
    await models?.close();
    await emulator?.close();
  });

  const updateSplit = (trafficSplit: Record<string, number>) =>
    endpoints.updateEndpoint({
      endpoint: { name: endpointName, trafficSplit },
      updateMask: { paths: ['traffic_split'] },
    });
  const deployBeside = (trafficSplit: Record<string, number>) =>
    endpoints.deployModel({
      endpoint: endpointName,
      deployedModel: { model: modelName, dedicatedResources: resources },
      trafficSplit,
    });

  it('refuses an UpdateEndpoint split that does not add up to 100', async () => {
    await expect(updateSplit({ [servingId]: 90 })).rejects.toMatchObject({
      code: 3,
      details:
        'Sum of all traffic within traffic split needs to be 100, got 90: the traffic percentage values must add up to 100.',
    });
    // A fraction travels as int32: 99.5 arrives as 99, and the sum is refused.
    await expect(updateSplit({ [servingId]: 99.5 })).rejects.toMatchObject({
      code: 3,
      details: expect.stringMatching(/^Sum of all traffic within traffic split needs to be 100, got 99:/),
    });
  });

  it('refuses a split that names a deployed model the endpoint does not have', async () => {
    await expect(updateSplit({ [servingId]: 50, '1234567890': 50 })).rejects.toMatchObject({
      code: 3,
      details: 'The following DeployedModel ID(s) [1234567890] do not exist.',
    });
  });

  it('refuses a DeployModel split that leaves out the model being deployed ("0") or does not add up to 100', async () => {
    await expect(deployBeside({ [servingId]: 100 })).rejects.toMatchObject({
      code: 3,
      details:
        'The traffic split does not include the DeployedModel being deployed: refer to it with the ID "0".',
    });
    await expect(deployBeside({ '0': 10, [servingId]: 80 })).rejects.toMatchObject({
      code: 3,
      details: expect.stringMatching(/^Sum of all traffic within traffic split needs to be 100, got 90:/),
    });
    // Nothing was deployed by the refused calls; a split that names it and adds up to 100 is taken.
    expect(emulator.state.endpoints.get(endpointName)!.deployedModels).toHaveLength(1);
    const [deploy] = await deployBeside({ '0': 0, [servingId]: 100 });
    const [{ deployedModel }] = await deploy.promise();
    expect(emulator.state.endpoints.get(endpointName)!.trafficSplit).toEqual({
      [servingId]: 100,
      [deployedModel!.id!]: 0,
    });
  });
});
