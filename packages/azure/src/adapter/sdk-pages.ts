import { itemsOfPages } from '@mlscale/core/provider-utils';
import type { AzureClients } from './azure-clients.js';

/**
 * The items of a Machine Learning SDK list, page by page, stopping when a page's continuation token
 * (`getContinuationToken`) repeats one already followed.
 */
export function machineLearningItems<Item>(
  clients: AzureClients,
  iterator: { byPage(): AsyncIterableIterator<Item[]> },
): AsyncGenerator<Item> {
  return itemsOfPages(iterator.byPage(), (page) => ({
    items: page,
    nextToken: clients.continuationToken(page),
  }));
}
