import type { ChannelCredentials } from '@grpc/grpc-js';

/** Where an emulator listens, as `startVertexEmulator()` reports it. */
export interface VertexEmulatorAddress {
  /** The host for the Google clients' `apiEndpoint` (`127.0.0.1`). */
  apiEndpoint: string;
  /** The gRPC port. */
  port: number;
  /** The Cloud Storage JSON API base URL. */
  storageEndpoint: string;
}

/**
 * `vertex()` settings that reach a running emulator, from this process or another one (a CLI run, a
 * service under test): its address and insecure channel credentials for loopback, from the
 * @grpc/grpc-js google-gax uses (no Google auth is attempted with them).
 *
 * ```ts
 * vertex({ project: 'my-project', location: 'us-central1', bucket: 'my-bucket', ...(await vertexEmulatorSettings(address)) })
 * ```
 */
export async function vertexEmulatorSettings(
  address: VertexEmulatorAddress,
): Promise<VertexEmulatorAddress & { sslCreds: ChannelCredentials }> {
  const grpc = await import('@grpc/grpc-js');
  return { ...address, sslCreds: grpc.credentials.createInsecure() };
}
