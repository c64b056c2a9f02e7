import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { connectGradientExchange } from './gradient-exchange.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('the TCP gradient exchange', () => {
  it('gives every rank the same sum, step after step', async () => {
    const masterPort = await freePort();
    const worldSize = 3;
    const exchanges = await Promise.all(
      Array.from({ length: worldSize }, (_, rank) =>
        connectGradientExchange({
          rank,
          worldSize,
          masterAddress: '127.0.0.1',
          masterPort,
          connectTimeoutMs: 10_000,
        }),
      ),
    );
    try {
      for (let step = 0; step < 3; step++) {
        const sums = await Promise.all(
          exchanges.map((exchange, rank) => exchange.sum(Float64Array.of(rank, step, 0.1 * rank))),
        );
        for (const sum of sums) expect(Array.from(sum)).toEqual([3, 3 * step, 0.1 * 0 + 0.1 * 1 + 0.1 * 2]);
      }
    } finally {
      await Promise.all(exchanges.map((exchange) => exchange.close()));
    }
  });

  it('is the identity for a single process', async () => {
    const exchange = await connectGradientExchange({
      rank: 0,
      worldSize: 1,
      masterAddress: '127.0.0.1',
      masterPort: 1,
    });
    expect(Array.from(await exchange.sum(Float64Array.of(1, 2)))).toEqual([1, 2]);
  });
});
