import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
// @ts-expect-error s3rver ships no type declarations.
import S3rver from 's3rver';

/** A local S3 (s3rver) with one bucket, for what the adapter uploads: the AWS emulator has no S3. */
export interface S3TestServer {
  /** The bucket made at start. */
  bucket: string;
  /** A new S3 client for this server (path-style, fake keys). */
  client(options?: { maxAttempts?: number }): S3Client;
  close(): Promise<void>;
}

export async function startS3TestServer(bucket: string): Promise<S3TestServer> {
  const folder = await mkdtemp(join(tmpdir(), 'mlscale-aws-s3rver-'));
  const server: { run(): Promise<{ port: number }>; close(): Promise<void> } = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: folder,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const clients: S3Client[] = [];
  return {
    bucket,
    client(options = {}) {
      const client = new S3Client({
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${port}`,
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
      });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.destroy();
      await server.close();
      await rm(folder, { recursive: true, force: true });
    },
  };
}
