import { Worker } from 'node:worker_threads';
import type { ReplicaWorkerData, ReplicaWorkerMessage } from './replica-worker.js';
import { replicaWorkerSource } from './replica-worker-source.js';
import type { NumericArray } from './tensor-datatypes.js';

/** One input handed to onnxruntime: its ort type name, data and dims. */
export interface WorkerTensor {
  name: string;
  /** onnxruntime's type name (`float32`). */
  type: string;
  data: NumericArray;
  dims: number[];
}

/** What a replica returns for one run. */
export interface ReplicaRunResult {
  outputs: WorkerTensor[];
  computeMs: number;
}

export interface ReplicaOptions {
  id: string;
  /** The model's bytes (copied into the worker). */
  model: Uint8Array;
  ortPath: string;
  executionProviders: string[];
  intraOpThreads: number;
  /** Called when a started worker ends without being asked to (a crash): the caller replaces it. */
  onUnexpectedExit?: (replica: Replica, reason: string) => void;
}

/** One worker thread holding one onnxruntime session. */
export interface Replica {
  readonly id: string;
  /** Batches sent and not answered yet. */
  readonly inFlightBatches: number;
  /** Rows in those batches. */
  readonly inFlightRows: number;
  /** Set once `drain` was called: the router sends it nothing new. */
  readonly draining: boolean;
  /** Runs one batch. Rejects with the runtime's message when inference fails. */
  run(feeds: WorkerTensor[], rows: number): Promise<ReplicaRunResult>;
  /** Stops taking work, waits for what is in flight, then ends the worker. */
  drain(): Promise<void>;
  /** Ends the worker now; what is in flight is rejected. */
  terminate(): Promise<void>;
  /** Makes the worker exit as a crash would (for tests of crash recovery). */
  simulateCrash(code?: number): void;
}

interface Pending {
  resolve: (result: ReplicaRunResult) => void;
  reject: (error: Error) => void;
  rows: number;
}

/** Starts a replica and resolves once its session is loaded; rejects with onnxruntime's reason if not. */
export function startReplica(options: ReplicaOptions): Promise<Replica> {
  const worker = new Worker(replicaWorkerSource, {
    eval: true,
    workerData: {
      ortPath: options.ortPath,
      model: options.model,
      executionProviders: options.executionProviders,
      intraOpThreads: options.intraOpThreads,
    } satisfies ReplicaWorkerData,
  });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let inFlightRows = 0;
  let draining = false;
  let exited = false;
  let drained: (() => void) | undefined;

  const failAll = (error: Error) => {
    for (const entry of pending.values()) entry.reject(error);
    pending.clear();
    inFlightRows = 0;
    drained?.();
  };

  const replica: Replica = {
    id: options.id,
    get inFlightBatches() {
      return pending.size;
    },
    get inFlightRows() {
      return inFlightRows;
    },
    get draining() {
      return draining;
    },
    run(feeds, rows) {
      if (exited) return Promise.reject(new Error(`replica ${options.id} has stopped`));
      const id = nextId++;
      inFlightRows += rows;
      return new Promise<ReplicaRunResult>((resolve, reject) => {
        pending.set(id, { resolve, reject, rows });
        const transfer: ArrayBuffer[] = [];
        for (const feed of feeds) {
          const buffer = feed.data.buffer;
          // Only whole, unshared buffers are transferred; views into a larger buffer are copied.
          if (
            buffer instanceof ArrayBuffer &&
            feed.data.byteOffset === 0 &&
            feed.data.byteLength === buffer.byteLength &&
            !transfer.includes(buffer)
          ) {
            transfer.push(buffer);
          }
        }
        worker.postMessage({ type: 'run', id, feeds }, transfer);
      });
    },
    async drain() {
      draining = true;
      if (pending.size > 0 && !exited) {
        await new Promise<void>((resolve) => {
          drained = resolve;
        });
      }
      await replica.terminate();
    },
    simulateCrash(code = 70) {
      worker.postMessage({ type: 'exit', code });
    },
    async terminate() {
      draining = true;
      if (exited) return;
      exited = true;
      await worker.terminate();
      failAll(new Error(`replica ${options.id} was stopped`));
    },
  };

  return new Promise<Replica>((resolve, reject) => {
    let started = false;
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'ready') {
        started = true;
        resolve(replica);
      } else if (message.type === 'failed') {
        exited = true;
        void worker.terminate();
        reject(new Error(message.message));
      } else if (message.type === 'result') {
        const entry = pending.get(message.id);
        if (!entry) return;
        pending.delete(message.id);
        inFlightRows -= entry.rows;
        if (message.error !== undefined) entry.reject(new Error(message.error));
        // The served datatypes are numeric, so onnxruntime answers typed arrays.
        else entry.resolve({ outputs: message.outputs as WorkerTensor[], computeMs: message.computeMs });
        if (draining && pending.size === 0) drained?.();
      }
    });
    const ended = (reason: string, error: Error) => {
      const unexpected = started && !exited;
      exited = true;
      draining = true;
      if (!started) reject(error);
      failAll(error);
      if (unexpected) options.onUnexpectedExit?.(replica, reason);
    };
    worker.on('error', (error) => ended(error.message, error));
    worker.on('exit', (code) =>
      ended(
        `exited with code ${code}`,
        new Error(
          started
            ? `replica ${options.id} exited (code ${code})`
            : `replica worker exited with code ${code} before loading the model`,
        ),
      ),
    );
  });
}

type WorkerMessage = ReplicaWorkerMessage;
