import { AddTagsCommand, ListTagsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsConformanceCloud } from '../src/emulator/index.js';
import { fakeCredentials, type Harness, startHarness } from './emulator-harness.js';

let harness: Harness;
let sageMaker: SageMakerClient;
beforeAll(async () => {
  harness = await startHarness();
  sageMaker = new SageMakerClient({
    region: 'us-east-1',
    endpoint: harness.emulator.url,
    credentials: fakeCredentials,
    maxAttempts: 1,
  });
});
afterAll(async () => {
  sageMaker.destroy();
  await harness.close();
});

const spec = (name: string, version = 1) => ({
  name,
  model: { uri: `s3://mlscale-models/mnist-v${version}/model.tar.gz` },
  replicas: 1,
});

/**
 * Overwrites every record chunk on the endpoint with text that is no record, as chunks of two records
 * mixed by an earlier version's concurrent saves read: the `mlscale:deployment` tag still names it.
 */
async function damageRecord(name: string): Promise<void> {
  const arn = harness.emulator.state.endpoints.get(name)?.EndpointArn;
  const { Tags = [] } = await sageMaker.send(new ListTagsCommand({ ResourceArn: arn }));
  const chunks = Tags.filter((tag) => tag.Key?.startsWith('mlscale:record-'));
  expect(chunks.length).toBeGreaterThan(0);
  await sageMaker.send(
    new AddTagsCommand({
      ResourceArn: arn,
      Tags: chunks.map((tag) => ({ Key: tag.Key!, Value: 'H4sIAAAAAAAAA-not-a-record' })),
    }),
  );
}

describe('an endpoint whose record does not decode', () => {
  it('is Failed and says so; deploy with the spec rewrites the record, update with the whole spec rolls out', async () => {
    const { client, emulator } = harness;
    const name = 'damaged-redeploy';
    const deployed = await client.deploy(spec(name));
    await damageRecord(name);

    const damaged = await client.get(name);
    expect(damaged.state).toBe('Failed');
    expect(damaged.stateReason).toMatch(/record .*damaged/i);
    expect(damaged.stateReason).toMatch(/deploy/i);
    expect((await client.reconcile(name, { wait: false }))?.state).toBe('Failed');
    const listed = [];
    for await (const status of client.list()) listed.push(status);
    expect(listed.find((status) => status.name === name)?.state).toBe('Failed');
    // A partial update has no recorded spec to apply to: refused, nothing guessed.
    await expect(client.update({ name, replicas: 2 })).rejects.toMatchObject({ code: 'InvalidSpec' });

    // The same spec again adopts the endpoint: same endpoint, same fleet, no rollout.
    const redeployed = await client.deploy(spec(name));
    expect(redeployed.state).toBe('InService');
    expect(redeployed.specHash).toBe(deployed.specHash);
    expect(redeployed.servingSpecHash).toBe(redeployed.specHash);
    expect(redeployed.details?.endpointArn).toBe(deployed.details?.endpointArn);
    expect(redeployed.details?.endpointConfigName).toBe(deployed.details?.endpointConfigName);
    expect(emulator.requestsFor('UpdateEndpoint')).toEqual([]);

    await damageRecord(name);
    const updated = await client.update(spec(name, 2), { replace: true });
    expect(updated.state).toBe('InService');
    expect(updated.specHash).not.toBe(deployed.specHash);
    expect(updated.servingSpecHash).toBe(updated.specHash);
    expect(updated.spec.model).toMatchObject(spec(name, 2).model);
    expect(updated.details?.endpointConfigName).not.toBe(deployed.details?.endpointConfigName);
    expect(await client.delete(name)).toEqual({ deleted: true });
    expect(await awsConformanceCloud(emulator).resources(name)).toEqual([]);
  });

  it('is deletable: delete removes the endpoint and everything tagged for it', async () => {
    const { client, emulator } = harness;
    const name = 'damaged-delete';
    await client.deploy({
      ...spec(name),
      autoscaling: { minReplicas: 1, maxReplicas: 2, target: { metric: 'requestsPerSecond', value: 5 } },
    });
    await damageRecord(name);
    expect(await client.delete(name)).toEqual({ deleted: true });
    expect(emulator.state.endpoints.has(name)).toBe(false);
    expect(await awsConformanceCloud(emulator).resources(name)).toEqual([]);
  });
});
