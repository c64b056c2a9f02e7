import type { Batching } from '@mlscale/core';
import type { Replica, WorkerTensor } from '../runtime/replica.js';
import { datatypeByOrtType, datatypes } from '../runtime/tensor-datatypes.js';
import { InferenceError, type InferenceRequest, type InferenceTensor } from './inference-types.js';

/** What a queued request gets back from its batch. */
export interface BatchedOutputs {
  outputs: InferenceTensor[];
  /** Seconds it waited before its batch started. */
  queueSeconds: number;
}

/** Called when a batch ran. */
export interface BatcherEvents {
  onBatch?(rows: number, requests: number, computeSeconds: number): void;
  onQueued?(seconds: number): void;
  onPendingChange?(pending: number): void;
  /** A request waits and no replica exists (scale to zero): start one. */
  /**
   * Requests wait and no replica serves: returns whether one is coming (replicas starting, or an
   * autoscaler that scales from zero). When none is, the waiting requests fail at once, not at their timeout.
   */
  onDemandWithoutReplicas?(): boolean;
}

export interface DynamicBatcher {
  /** Queues a validated request. Rejects with 429 when the queue is full, 503 past the timeout. */
  enqueue(request: InferenceRequest, rows: number, batchKey: string): Promise<BatchedOutputs>;
  /** Tries to start batches (call when a replica joins or frees up). */
  pump(): void;
  /** Requests waiting. */
  readonly pending: number;
  /** Requests queued or running. */
  readonly outstanding: number;
  /** Changes batching in place. */
  configure(batching: Batching): void;
  /** Rejects everything queued with `error` and stops the timeout sweep. */
  close(error: InferenceError): void;
}

interface QueuedRequest {
  request: InferenceRequest;
  rows: number;
  batchKey: string;
  enqueuedAt: number;
  settled: boolean;
  resolve(outputs: BatchedOutputs): void;
  reject(error: Error): void;
}

/** Most batches one replica holds at once: one running, one ready behind it, so the worker never idles. */
const batchesPerReplica = 2;

/**
 * The router and dynamic batcher of one model version, in the main thread. A batch starts when a replica
 * has room and either `maxBatchSize` rows are waiting or the oldest request has waited `maxQueueDelayMs`,
 * or, when no replica has a batch in flight, at the end of the event-loop turn (idle replicas never wait
 * out the delay; batches grow while they are busy).
 * Only requests with the same batch key (input names and non-batch dims) are concatenated; models without
 * a dynamic batch dimension run one request per execution. The least-loaded replica gets each batch.
 */
export function createDynamicBatcher(options: {
  batching: Batching;
  batchable: boolean;
  replicas: () => readonly Replica[];
  events: BatcherEvents;
}): DynamicBatcher {
  let batching = options.batching;
  const queue: QueuedRequest[] = [];
  const running = new Set<QueuedRequest>();
  let timer: NodeJS.Timeout | undefined;
  let timerDeadline = 0;
  let immediate: NodeJS.Immediate | undefined;
  /** Set while the end-of-turn pump runs: it starts a batch without waiting for more rows. */
  let flushing = false;
  let closed = false;
  const { events } = options;

  const sweep = setInterval(() => expire(performance.now()), 50);
  sweep.unref();

  function expire(now: number) {
    const limit = batching.requestTimeoutMs;
    let removed = false;
    for (let index = queue.length - 1; index >= 0; index--) {
      const item = queue[index]!;
      if (now - item.enqueuedAt >= limit) {
        queue.splice(index, 1);
        removed = true;
        timeOut(item, now);
      }
    }
    for (const item of running) {
      if (now - item.enqueuedAt >= limit) {
        running.delete(item);
        timeOut(item, now);
      }
    }
    if (removed) events.onPendingChange?.(queue.length);
  }

  function timeOut(item: QueuedRequest, now: number) {
    if (item.settled) return;
    item.settled = true;
    item.reject(
      new InferenceError(
        503,
        `request timed out after ${Math.round(now - item.enqueuedAt)} ms (requestTimeoutMs ${batching.requestTimeoutMs}); the server is overloaded or has no replica`,
        'timeout',
        1,
      ),
    );
  }

  function failWithoutReplicas() {
    const waiting = queue.splice(0);
    events.onPendingChange?.(0);
    for (const item of waiting) {
      if (item.settled) continue;
      item.settled = true;
      item.reject(
        new InferenceError(
          503,
          'no replica serves this model and none is starting: it was scaled to 0 replicas without autoscaling from zero; scale it up first',
          'no_replicas',
        ),
      );
    }
  }

  function pickReplica(): Replica | undefined {
    let best: Replica | undefined;
    for (const replica of options.replicas()) {
      if (replica.draining || replica.inFlightBatches >= batchesPerReplica) continue;
      if (!best || replica.inFlightRows < best.inFlightRows) best = replica;
    }
    return best;
  }

  function pump() {
    while (queue.length > 0) {
      const replica = pickReplica();
      if (!replica) {
        if (options.replicas().length === 0 && events.onDemandWithoutReplicas?.() === false) {
          failWithoutReplicas();
        }
        return;
      }
      const head = queue[0]!;
      const deadline = head.enqueuedAt + batching.maxQueueDelayMs;
      if (
        options.batchable &&
        batching.maxBatchSize > 1 &&
        performance.now() < deadline &&
        queuedRows(head.batchKey) < batching.maxBatchSize
      ) {
        // The end-of-turn pump lets an idle replica take what is queued now.
        const idleFlush = flushing && replica.inFlightBatches === 0;
        if (!idleFlush && replicasBusy()) {
          // More rows may join until the deadline; a replica finishing pumps again before it.
          wakeAt(deadline);
          return;
        }
        if (!idleFlush) {
          // Every replica is idle: waiting out maxQueueDelayMs would leave them so. The batch starts at
          // the end of this event-loop turn instead, with the requests already received by then.
          flushSoon();
          return;
        }
      }
      run(replica, takeBatch());
    }
  }

  function replicasBusy(): boolean {
    for (const replica of options.replicas()) if (replica.inFlightBatches > 0) return true;
    return false;
  }

  /** One timer for the head's deadline, kept across pumps (re-arming it per request costs more). */
  function wakeAt(deadline: number) {
    if (timer && timerDeadline <= deadline) return;
    if (timer) clearTimeout(timer);
    timerDeadline = deadline;
    timer = setTimeout(
      () => {
        timer = undefined;
        pump();
      },
      Math.max(0, deadline - performance.now()),
    );
  }

  function flushSoon() {
    if (immediate) return;
    immediate = setImmediate(() => {
      immediate = undefined;
      flushing = true;
      try {
        pump();
      } finally {
        flushing = false;
      }
    });
  }

  function queuedRows(batchKey: string): number {
    let rows = 0;
    for (const item of queue) {
      if (item.batchKey === batchKey) rows += item.rows;
      if (rows >= batching.maxBatchSize) break;
    }
    return rows;
  }

  /** The head request and the following ones with its key, up to maxBatchSize rows (at least one request). */
  function takeBatch(): QueuedRequest[] {
    const head = queue.shift()!;
    const batch = [head];
    if (!options.batchable || batching.maxBatchSize <= 1) return batch;
    let rows = head.rows;
    for (let index = 0; index < queue.length && rows < batching.maxBatchSize; ) {
      const item = queue[index]!;
      if (item.batchKey === head.batchKey && rows + item.rows <= batching.maxBatchSize) {
        queue.splice(index, 1);
        batch.push(item);
        rows += item.rows;
      } else {
        index++;
      }
    }
    return batch;
  }

  function run(replica: Replica, batch: QueuedRequest[]) {
    const started = performance.now();
    let rows = 0;
    for (const item of batch) {
      rows += item.rows;
      running.add(item);
      events.onQueued?.((started - item.enqueuedAt) / 1000);
    }
    events.onPendingChange?.(queue.length);
    const feeds = concatenate(batch, rows);
    replica.run(feeds, rows).then(
      (result) => {
        events.onBatch?.(rows, batch.length, result.computeMs / 1000);
        split(batch, rows, result.outputs, started);
        pump();
      },
      (error: Error) => {
        for (const item of batch) {
          running.delete(item);
          if (item.settled) continue;
          item.settled = true;
          item.reject(new InferenceError(500, `inference failed: ${error.message}`, 'inference_failed'));
        }
        pump();
      },
    );
  }

  return {
    enqueue(request, rows, batchKey) {
      if (closed)
        return Promise.reject(
          new InferenceError(503, 'the model version is shutting down', 'unavailable', 1),
        );
      if (queue.length >= batching.maxQueueSize) {
        return Promise.reject(
          new InferenceError(
            429,
            `queue full: ${queue.length} requests waiting (maxQueueSize ${batching.maxQueueSize}); retry later`,
            'queue_full',
            1,
          ),
        );
      }
      return new Promise<BatchedOutputs>((resolve, reject) => {
        queue.push({
          request,
          rows,
          batchKey,
          enqueuedAt: performance.now(),
          settled: false,
          resolve,
          reject,
        });
        events.onPendingChange?.(queue.length);
        pump();
      });
    },
    pump,
    get pending() {
      return queue.length;
    },
    get outstanding() {
      return queue.length + running.size;
    },
    configure(next) {
      batching = next;
      pump();
    },
    close(error) {
      closed = true;
      clearInterval(sweep);
      if (timer) clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      timer = undefined;
      immediate = undefined;
      for (const item of queue.splice(0)) {
        if (item.settled) continue;
        item.settled = true;
        item.reject(error);
      }
      events.onPendingChange?.(0);
    },
  };

  function split(batch: QueuedRequest[], rows: number, outputs: WorkerTensor[], started: number) {
    let offset = 0;
    for (const item of batch) {
      running.delete(item);
      const mine: InferenceTensor[] = [];
      for (const output of outputs) {
        const datatype = datatypeByOrtType.get(output.type);
        if (!datatype) {
          failOne(item, `output '${output.name}' has type ${output.type}, which the server cannot return`);
          break;
        }
        if (!options.batchable) {
          mine.push({
            name: output.name,
            datatype: datatype.datatype,
            shape: output.dims,
            data: output.data,
          });
          continue;
        }
        const perRow = rows === 0 ? 0 : output.data.length / rows;
        mine.push({
          name: output.name,
          datatype: datatype.datatype,
          shape: [item.rows, ...output.dims.slice(1)],
          data: output.data.subarray(offset * perRow, (offset + item.rows) * perRow),
        });
      }
      offset += item.rows;
      if (item.settled) continue;
      item.settled = true;
      item.resolve({ outputs: mine, queueSeconds: (started - item.enqueuedAt) / 1000 });
    }
  }
}

function failOne(item: QueuedRequest, message: string) {
  if (item.settled) return;
  item.settled = true;
  item.reject(new InferenceError(500, message, 'inference_failed'));
}

/** One feed per input: the request's own data for a single request, a concatenation for a batch. */
function concatenate(batch: QueuedRequest[], rows: number): WorkerTensor[] {
  const first = batch[0]!.request;
  return first.inputs.map((input) => {
    const info = datatypes.get(input.datatype)!;
    if (batch.length === 1)
      return { name: input.name, type: info.ortType, data: input.data, dims: input.shape };
    const perRow = input.data.length / batch[0]!.rows;
    const data = info.create(perRow * rows);
    let offset = 0;
    for (const item of batch) {
      const source = item.request.inputs.find((candidate) => candidate.name === input.name)!.data;
      // Same datatype across the batch (checked against the signature), so the set() is type-safe.
      (data as Float32Array).set(source as Float32Array, offset);
      offset += source.length;
    }
    return { name: input.name, type: info.ortType, data, dims: [rows, ...input.shape.slice(1)] };
  });
}
