/**
 * Pages of a list call as one async iterable of items, for APIs whose SDK has no paginator of its own.
 * Stops when the service returns no token, or the token it just used (a service that repeats a token
 * would otherwise be listed forever), or after `maxPages`.
 */
export async function* paginate<Page, Item>(options: {
  /** Fetches the page after `token` (undefined: the first). */
  fetch: (token: string | undefined) => Promise<Page>;
  /** The page's items and the token of the next page. */
  read: (page: Page) => { items: readonly Item[] | undefined; nextToken?: string | null | undefined };
  /** Most pages read. Default 10,000. */
  maxPages?: number;
}): AsyncGenerator<Item> {
  const seen = new Set<string>();
  let token: string | undefined;
  const maxPages = options.maxPages ?? 10_000;
  for (let pages = 0; pages < maxPages; pages++) {
    const { items, nextToken } = options.read(await options.fetch(token));
    yield* items ?? [];
    if (!nextToken || seen.has(nextToken)) return;
    seen.add(nextToken);
    token = nextToken;
  }
}

/**
 * The items of an SDK paginator's pages, until the paginator ends or a page's continuation token repeats
 * one already seen (the SDK would follow it forever). Pages without a token (SDKs that do not expose
 * one) do not stop it.
 */
export async function* itemsOfPages<Page, Item>(
  pages: AsyncIterable<Page>,
  read: (page: Page) => { items: readonly Item[] | undefined; nextToken?: string | null | undefined },
): AsyncGenerator<Item> {
  const seen = new Set<string>();
  for await (const page of pages) {
    const { items, nextToken } = read(page);
    yield* items ?? [];
    if (!nextToken) continue;
    if (seen.has(nextToken)) return;
    seen.add(nextToken);
  }
}
