import { describe, expect, it } from 'vitest';
import { createDynamicBatcher } from '../src/deployments/dynamic-batcher.js';
import { InferenceError, type InferenceRequest } from '../src/deployments/inference-types.js';
import type { Replica, ReplicaRunResult, WorkerTensor } from '../src/runtime/replica.js';

/** A replica whose runs finish when the test says so; it doubles each input value. */
function manualReplica() {
  const runs: { rows: number; finish: () => void }[] = [];
  let inFlightBatches = 0;
  let inFlightRows = 0;
  const replica: Replica = {
    id: 'manual-1',
    get inFlightBatches() {
      return inFlightBatches;
    },
    get inFlightRows() {
      return inFlightRows;
    },
    draining: false,
    run(feeds: WorkerTensor[], rows: number) {
      inFlightBatches++;
      inFlightRows += rows;
      return new Promise<ReplicaRunResult>((resolve) => {
        runs.push({
          rows,
          finish: () => {
            inFlightBatches--;
            inFlightRows -= rows;
            const input = feeds[0]!;
            const data = Float32Array.from(input.data as Float32Array, (value) => value * 2);
            resolve({ outputs: [{ name: 'out', type: 'float32', data, dims: input.dims }], computeMs: 0 });
          },
        });
      });
    },
    drain: async () => {},
    terminate: async () => {},
    simulateCrash: () => {},
  };
  return { replica, runs };
}

function request(value: number): InferenceRequest {
  return {
    inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: Float32Array.from([value, value]) }],
  };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('the dynamic batcher', () => {
  // maxQueueDelayMs is a minute: a test that waited it out would time out.
  const batching = { maxBatchSize: 8, maxQueueDelayMs: 60_000, maxQueueSize: 100, requestTimeoutMs: 120_000 };

  it('starts a batch at the end of the turn when no replica is busy, with the requests received in that turn', async () => {
    const { replica, runs } = manualReplica();
    const batcher = createDynamicBatcher({
      batching,
      batchable: true,
      replicas: () => [replica],
      events: {},
    });
    const answers = [1, 2, 3].map((value) => batcher.enqueue(request(value), 1, 'x:2;'));
    expect(runs).toHaveLength(0);
    await nextTurn();
    expect(runs.map((run) => run.rows)).toEqual([3]);
    runs[0]!.finish();
    const outputs = await Promise.all(answers);
    expect(outputs.map((answer) => Array.from(answer.outputs[0]!.data))).toEqual([
      [2, 2],
      [4, 4],
      [6, 6],
    ]);
    batcher.close(new InferenceError(503, 'done', 'unavailable'));
  });

  it('while a replica is busy, queues requests and merges them once it is free', async () => {
    const { replica, runs } = manualReplica();
    const batcher = createDynamicBatcher({
      batching,
      batchable: true,
      replicas: () => [replica],
      events: {},
    });
    const first = batcher.enqueue(request(1), 1, 'x:2;');
    await nextTurn();
    expect(runs.map((run) => run.rows)).toEqual([1]);
    const later = [batcher.enqueue(request(2), 1, 'x:2;')];
    await nextTurn();
    later.push(batcher.enqueue(request(3), 1, 'x:2;'));
    await nextTurn();
    // Busy: the second slot waits for more rows (up to maxQueueDelayMs) instead of running one row.
    expect(runs.map((run) => run.rows)).toEqual([1]);
    runs[0]!.finish();
    await first;
    await nextTurn();
    await nextTurn();
    expect(runs.map((run) => run.rows)).toEqual([1, 2]);
    runs[1]!.finish();
    expect((await Promise.all(later)).map((answer) => answer.outputs[0]!.data[0])).toEqual([4, 6]);
    batcher.close(new InferenceError(503, 'done', 'unavailable'));
  });

  it('runs a full batch at once even while the replica is busy', async () => {
    const { replica, runs } = manualReplica();
    const batcher = createDynamicBatcher({
      batching,
      batchable: true,
      replicas: () => [replica],
      events: {},
    });
    batcher.enqueue(request(0), 1, 'x:2;');
    await nextTurn();
    const full = Array.from({ length: 8 }, (_, index) => batcher.enqueue(request(index), 1, 'x:2;'));
    expect(runs.map((run) => run.rows)).toEqual([1, 8]);
    runs[1]!.finish();
    expect(await Promise.all(full)).toHaveLength(8);
    runs[0]!.finish();
    batcher.close(new InferenceError(503, 'done', 'unavailable'));
  });

  it('refuses past maxQueueSize with 429 and Retry-After, and fails a request still waiting at requestTimeoutMs with 503', async () => {
    const { replica, runs } = manualReplica();
    const batcher = createDynamicBatcher({
      batching: { maxBatchSize: 1, maxQueueDelayMs: 0, maxQueueSize: 3, requestTimeoutMs: 200 },
      batchable: true,
      replicas: () => [replica],
      events: {},
    });
    const failure = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (error: unknown) => error as InferenceError,
      );
    // Two batches run on the replica (its limit), three wait: the queue is full.
    const answers = [1, 2, 3, 4, 5].map((value) => failure(batcher.enqueue(request(value), 1, 'x:2;')));
    await nextTurn();
    expect(runs).toHaveLength(2);
    const overflow = await failure(batcher.enqueue(request(6), 1, 'x:2;'));
    expect(overflow).toMatchObject({ status: 429, reason: 'queue_full', retryAfterSeconds: 1 });
    expect(overflow?.message).toMatch(/queue full: 3 requests waiting \(maxQueueSize 3\)/);
    const timedOut = await Promise.all(answers);
    for (const error of timedOut) {
      expect(error).toMatchObject({ status: 503, reason: 'timeout', retryAfterSeconds: 1 });
      expect(error?.message).toMatch(/timed out after \d+ ms \(requestTimeoutMs 200\)/);
    }
    batcher.close(new InferenceError(503, 'done', 'unavailable'));
  });

  it('with no replica and none coming, fails waiting requests at once instead of at their timeout', async () => {
    let asked = 0;
    const batcher = createDynamicBatcher({
      batching: { ...batching, requestTimeoutMs: 120_000 },
      batchable: true,
      replicas: () => [],
      events: {
        onDemandWithoutReplicas: () => {
          asked++;
          return false;
        },
      },
    });
    const error = await batcher.enqueue(request(1), 1, 'x:2;').then(
      () => undefined,
      (caught: unknown) => caught as InferenceError,
    );
    expect(asked).toBe(1);
    expect(error).toMatchObject({ status: 503, reason: 'no_replicas', retryAfterSeconds: undefined });
    expect(batcher.pending).toBe(0);
    batcher.close(new InferenceError(503, 'done', 'unavailable'));
  });
});
