import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMlscale, type MlscaleClient } from '@mlscale/core';
import { localGpu } from '@mlscale/local-gpu';
import { referenceMlp } from '@mlscale/local-gpu/onnx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferenceCounters } from '../lib/answer-checks.mjs';
import { parseGrpcLoadOutput, runGrpcLoad, summarize } from '../lib/grpc-load-generator.mjs';

describe('the gRPC load summary', () => {
  it('gives requests/s, percentiles in ms and failed calls in runWrk’s shape', () => {
    const latencies = Array.from({ length: 100 }, (_, index) => index + 1);
    const result = summarize(latencies, 2, { UNAVAILABLE: 2, DEADLINE_EXCEEDED: 1, INTERNAL: 4 });
    expect(result.requests).toBe(100);
    expect(result.requestsPerSecond).toBe(50);
    expect(result.failed).toBe(7);
    expect(result.errors).toEqual({ connect: 2, read: 0, write: 0, status: 4, timeout: 1 });
    expect(result.latencyMs).toEqual({ mean: 50.5, p50: 50, p90: 90, p99: 99, max: 100 });
    expect(summarize([], 1, {})).toMatchObject({ requests: 0, failed: 0, latencyMs: { p50: 0, p99: 0 } });
  });

  it('reads the GRPC_JSON line and fails loudly without it', () => {
    expect(parseGrpcLoadOutput('noise\nGRPC_JSON {"requests":3}\n')).toEqual({ requests: 3 });
    expect(() => parseGrpcLoadOutput('boom')).toThrow(/no GRPC_JSON summary/);
  });
});

describe('the gRPC load generator against a real mlscale gRPC port on loopback', () => {
  const folder = mkdtempSync(join(tmpdir(), 'bench-grpc-load-'));
  const modelPath = join(folder, 'model.onnx');
  let client: MlscaleClient;
  let baseUrl: string;
  let grpcUrl: string;

  beforeAll(async () => {
    writeFileSync(modelPath, referenceMlp());
    client = createMlscale({ backend: localGpu({ root: join(folder, '.mlscale'), device: 'cpu' }) });
    const status = await client.deploy({
      name: 'model',
      model: { uri: modelPath },
      providerOptions: { local: { grpcPort: 0 } },
    });
    baseUrl = status.endpoint!.url;
    grpcUrl = (status.details as { grpc: { url: string } }).grpc.url;
  });

  afterAll(async () => {
    await client?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('runs closed-loop calls in a child process over several channels, after a warm-up', async () => {
    const before = await inferenceCounters(baseUrl);
    const result = await runGrpcLoad({
      target: grpcUrl,
      model: 'model',
      rows: 4,
      connections: 6,
      callsPerChannel: 4,
      durationSeconds: 1,
      warmupSeconds: 0.5,
      serverPid: process.pid,
    });
    const after = await inferenceCounters(baseUrl);
    expect(result.channels).toBe(2);
    expect(result.failed).toBe(0);
    expect(result.requests).toBeGreaterThan(10);
    expect(result.seconds).toBeGreaterThanOrEqual(0.99);
    expect(result.requestsPerSecond).toBeCloseTo(result.requests / result.seconds, 6);
    expect(result.latencyMs.p99).toBeGreaterThanOrEqual(result.latencyMs.p50);
    expect(result.latencyMs.p50).toBeGreaterThan(0);
    // This process serves, so its CPU shows up as the server's.
    expect(result.serverCores).toBeGreaterThan(0);
    expect(result.clientCores).toBeGreaterThan(0);
    // Warm-up and measured calls all reached the model, 4 rows each; the warm-up is not counted.
    const inferred = after.inferences - before.inferences;
    expect(inferred % 4).toBe(0);
    expect(inferred / 4).toBeGreaterThan(result.requests);
  });

  it('counts every call as failed, by gRPC status, for an unknown model', async () => {
    const result = await runGrpcLoad({
      target: grpcUrl,
      model: 'nothing',
      rows: 1,
      connections: 2,
      durationSeconds: 0.5,
    });
    expect(result.requests).toBe(0);
    expect(result.failed).toBeGreaterThan(0);
    expect(result.codes).toEqual({ NOT_FOUND: result.failed });
    expect(result.errors.status).toBe(result.failed);
  });

  it('fails with the child’s message when nothing listens', async () => {
    await expect(
      runGrpcLoad({
        target: '127.0.0.1:1',
        model: 'model',
        rows: 1,
        connections: 1,
        durationSeconds: 0.2,
        readySeconds: 1,
      }),
    ).rejects.toThrow(/not ready/);
  });
});
