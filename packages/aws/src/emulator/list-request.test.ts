import {
  CreateEndpointCommand,
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  type ListEndpointsCommandInput,
  ListModelsCommand,
  paginateListEndpointConfigs,
  paginateListModels,
} from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEndpointConfig,
  type EmulatorWithClients,
  startEmulatorWithClients,
  waitForStatus,
} from './sdk-clients-for-tests.js';

// The adapter finds its resources by name through these list calls, so their order, filters and
// pages must be SageMaker's: SortBy CreationTime and SortOrder Descending by default.

let clients: EmulatorWithClients;
/** Creation times differ by a few milliseconds, so "newest first" is one order, not a tie. */
const pause = () => new Promise((resolve) => setTimeout(resolve, 5));

beforeAll(async () => {
  clients = await startEmulatorWithClients();
  for (const name of ['charlie', 'alpha', 'bravo']) {
    await createEndpointConfig(clients, `${name}-config`, [{ VariantName: 'AllTraffic' }]);
    if (name === 'bravo') clients.emulator.faults.add({ kind: 'failEndpoint', endpointName: 'bravo' });
    await clients.sageMaker.send(
      new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: `${name}-config` }),
    );
    await pause();
  }
  await waitForStatus(clients, 'charlie', 'InService');
  await waitForStatus(clients, 'alpha', 'InService');
  await waitForStatus(clients, 'bravo', 'Failed');
});
afterAll(async () => clients.close());

async function endpointNames(input: ListEndpointsCommandInput): Promise<string[]> {
  const page = await clients.sageMaker.send(new ListEndpointsCommand(input));
  return (page.Endpoints ?? []).map((summary) => summary.EndpointName!);
}

describe('ListEndpoints', () => {
  it('lists newest first by default', async () => {
    expect(await endpointNames({})).toEqual(['bravo', 'alpha', 'charlie']);
  });

  it('sorts by Name, CreationTime or Status, in either order', async () => {
    expect(await endpointNames({ SortBy: 'Name', SortOrder: 'Ascending' })).toEqual([
      'alpha',
      'bravo',
      'charlie',
    ]);
    expect(await endpointNames({ SortBy: 'Name', SortOrder: 'Descending' })).toEqual([
      'charlie',
      'bravo',
      'alpha',
    ]);
    expect(await endpointNames({ SortBy: 'CreationTime', SortOrder: 'Ascending' })).toEqual([
      'charlie',
      'alpha',
      'bravo',
    ]);
    // Failed sorts before InService; endpoints of one status keep their creation order.
    expect(await endpointNames({ SortBy: 'Status', SortOrder: 'Ascending' })).toEqual([
      'bravo',
      'charlie',
      'alpha',
    ]);
  });

  it('filters by name, status and creation time', async () => {
    expect(await endpointNames({ NameContains: 'ph' })).toEqual(['alpha']);
    expect(await endpointNames({ StatusEquals: 'Failed' })).toEqual(['bravo']);
    expect(
      await endpointNames({ StatusEquals: 'InService', SortBy: 'Name', SortOrder: 'Ascending' }),
    ).toEqual(['alpha', 'charlie']);
    const alpha = (await clients.sageMaker.send(new ListEndpointsCommand({ NameContains: 'alpha' })))
      .Endpoints![0]!;
    // CreationTimeAfter includes its own instant; CreationTimeBefore does not.
    expect(await endpointNames({ CreationTimeAfter: alpha.CreationTime, SortOrder: 'Ascending' })).toEqual([
      'alpha',
      'bravo',
    ]);
    expect(await endpointNames({ CreationTimeBefore: alpha.CreationTime })).toEqual(['charlie']);
  });

  it('pages in the same order it sorts', async () => {
    const first = await clients.sageMaker.send(
      new ListEndpointsCommand({ SortBy: 'Name', SortOrder: 'Ascending', MaxResults: 2 }),
    );
    expect(first.Endpoints?.map((summary) => summary.EndpointName)).toEqual(['alpha', 'bravo']);
    expect(first.NextToken).toBeDefined();
    const second = await clients.sageMaker.send(
      new ListEndpointsCommand({
        SortBy: 'Name',
        SortOrder: 'Ascending',
        MaxResults: 2,
        NextToken: first.NextToken,
      }),
    );
    expect(second.Endpoints?.map((summary) => summary.EndpointName)).toEqual(['charlie']);
    expect(second.NextToken).toBeUndefined();
  });
});

describe('ListEndpointConfigs and ListModels', () => {
  // Twelve configs under one prefix (one model each), more than the default page of 10, created out of
  // name order so that sorting by Name and by CreationTime give different lists.
  const creationOrder = [7, 3, 12, 1, 9, 5, 11, 2, 8, 4, 10, 6].map(
    (index) => `found-${String(index).padStart(2, '0')}`,
  );
  const byName = [...creationOrder].sort();
  beforeAll(async () => {
    for (const name of creationOrder) {
      await createEndpointConfig(clients, name, [{ VariantName: 'AllTraffic' }]);
      await pause();
    }
  });

  it('find configs by name prefix, newest first, ten to a page by default', async () => {
    const first = await clients.sageMaker.send(new ListEndpointConfigsCommand({ NameContains: 'found-' }));
    expect(first.EndpointConfigs?.map((config) => config.EndpointConfigName)).toEqual(
      [...creationOrder].reverse().slice(0, 10),
    );
    expect(first.NextToken).toBeDefined();
  });

  it('page configs and models by name with the SDK paginators', async () => {
    const configs: string[] = [];
    let configPages = 0;
    for await (const page of paginateListEndpointConfigs(
      { client: clients.sageMaker, pageSize: 5 },
      { NameContains: 'found-', SortBy: 'Name', SortOrder: 'Ascending' },
    )) {
      configPages++;
      configs.push(...(page.EndpointConfigs ?? []).map((config) => config.EndpointConfigName!));
    }
    expect(configPages).toBe(3);
    expect(configs).toEqual(
      Array.from({ length: 12 }, (_, index) => `found-${String(index + 1).padStart(2, '0')}`),
    );

    const models: string[] = [];
    for await (const page of paginateListModels(
      { client: clients.sageMaker, pageSize: 4 },
      { NameContains: 'found-', SortBy: 'Name', SortOrder: 'Descending' },
    )) {
      models.push(...(page.Models ?? []).map((model) => model.ModelName!));
    }
    expect(models).toEqual([...byName].reverse().map((name) => `${name}-AllTraffic`));
  });

  it('filter models and configs by creation time', async () => {
    const [newest] = (
      await clients.sageMaker.send(new ListModelsCommand({ NameContains: 'found-', MaxResults: 1 }))
    ).Models!;
    expect(newest?.ModelName).toBe('found-06-AllTraffic');
    const after = await clients.sageMaker.send(
      new ListModelsCommand({ NameContains: 'found-', CreationTimeAfter: newest!.CreationTime }),
    );
    expect(after.Models?.map((model) => model.ModelName)).toEqual(['found-06-AllTraffic']);
    const before = await clients.sageMaker.send(
      new ListEndpointConfigsCommand({
        NameContains: 'found-',
        CreationTimeBefore: newest!.CreationTime,
        MaxResults: 100,
      }),
    );
    expect(before.EndpointConfigs).toHaveLength(11);
  });
});
