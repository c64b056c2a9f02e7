import { describe, expect, it } from 'vitest';
import { referenceMlp } from '../src/onnx/index.js';
import { onnxruntimeEntryPath } from '../src/runtime/onnxruntime-location.js';
import { type Replica, startReplica } from '../src/runtime/replica.js';
import { inProcessReference, maxDifference, referenceInput } from './helpers.js';

const base = { ortPath: onnxruntimeEntryPath(), executionProviders: ['cpu'], intraOpThreads: 1 };

describe('a replica worker', () => {
  it('runs batches with transferred buffers and returns onnxruntime outputs', async () => {
    const replica = await startReplica({ ...base, id: 'r1', model: referenceMlp() });
    try {
      const input = referenceInput(7, 3);
      const sent = input.slice();
      const result = await replica.run([{ name: 'input', type: 'float32', data: sent, dims: [3, 784] }], 3);
      // The input's buffer moved to the worker instead of being copied.
      expect(sent.byteLength).toBe(0);
      expect(result.outputs[0]).toMatchObject({ name: 'probabilities', type: 'float32', dims: [3, 10] });
      const reference = await inProcessReference();
      expect(maxDifference(result.outputs[0]!.data as Float32Array, await reference(input, 3))).toBeLessThan(
        1e-5,
      );
      expect(replica.inFlightBatches).toBe(0);
    } finally {
      await replica.terminate();
    }
  });

  it('rejects with onnxruntime reason when the model does not load', async () => {
    await expect(startReplica({ ...base, id: 'bad', model: new Uint8Array([1, 2, 3]) })).rejects.toThrow(
      /protobuf|parse|model/i,
    );
  });

  it('reports a crash, failing only what was in flight on it', async () => {
    let crashed: { replica: Replica; reason: string } | undefined;
    const replica = await startReplica({
      ...base,
      id: 'crashing',
      model: referenceMlp(),
      onUnexpectedExit: (which, reason) => {
        crashed = { replica: which, reason };
      },
    });
    replica.simulateCrash(70);
    await expect.poll(() => crashed?.reason, { timeout: 10_000 }).toBe('exited with code 70');
    expect(crashed?.replica).toBe(replica);
    expect(replica.draining).toBe(true);
    await expect(
      replica.run([{ name: 'input', type: 'float32', data: referenceInput(1), dims: [1, 784] }], 1),
    ).rejects.toThrow(/has stopped/);
    // A replica stopped on purpose is not a crash.
    let reported = false;
    const other = await startReplica({
      ...base,
      id: 'stopped',
      model: referenceMlp(),
      onUnexpectedExit: () => (reported = true),
    });
    await other.terminate();
    expect(reported).toBe(false);
  });
});
