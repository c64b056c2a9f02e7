import { describe, expect, it } from 'vitest';
import { itemsOfPages, paginate } from './paginate.js';

describe('paginate', () => {
  it('follows tokens to the end, and stops when a service repeats one', async () => {
    const pages: Record<string, { items: number[]; next?: string }> = {
      start: { items: [1, 2], next: 'a' },
      a: { items: [3], next: 'b' },
      b: { items: [4], next: 'a' },
    };
    const fetched: (string | undefined)[] = [];
    const items: number[] = [];
    for await (const item of paginate({
      fetch: async (token) => {
        fetched.push(token);
        return pages[token ?? 'start']!;
      },
      read: (page) => ({ items: page.items, nextToken: page.next }),
    })) {
      items.push(item);
    }
    expect(items).toEqual([1, 2, 3, 4]);
    expect(fetched).toEqual([undefined, 'a', 'b']);
  });

  it('reads an SDK paginator until its token repeats', async () => {
    async function* endless() {
      yield { values: [1], token: 'x' };
      yield { values: [2], token: 'y' };
      for (;;) yield { values: [3], token: 'x' };
    }
    const items: number[] = [];
    for await (const item of itemsOfPages(endless(), (page) => ({
      items: page.values,
      nextToken: page.token,
    }))) {
      items.push(item);
    }
    expect(items).toEqual([1, 2, 3]);
  });

  it('reads every page of a paginator that exposes no tokens', async () => {
    async function* pages() {
      yield { values: [1] };
      yield { values: [2, 3] };
    }
    const items: number[] = [];
    for await (const item of itemsOfPages(pages(), (page) => ({ items: page.values }))) items.push(item);
    expect(items).toEqual([1, 2, 3]);
  });
});
