import { createServer } from 'node:net';

/**
 * A loopback port free right now (the OS picks it), for the rendezvous of a distributed job. Another
 * program could take it before rank 0 binds it; torchrun has the same window.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
