import type { MessagePort } from 'node:worker_threads';
import type * as OnnxRuntime from 'onnxruntime-node';

/** What a replica worker starts with (its `workerData`). */
export interface ReplicaWorkerData {
  /** Where onnxruntime-node is (resolved by the parent, so the worker loads the same copy). */
  ortPath: string;
  model: Uint8Array;
  executionProviders: string[];
  intraOpThreads: number;
}

/** One tensor crossing to or from the worker: onnxruntime's type name, data and dims. */
export interface ReplicaWorkerTensor {
  name: string;
  type: string;
  data: OnnxRuntime.Tensor['data'];
  dims: number[];
}

/** From the parent: run one batch, or exit as a crash would (tests of crash recovery). */
export type ReplicaWorkerRequest =
  | { type: 'run'; id: number; feeds: ReplicaWorkerTensor[] }
  | { type: 'exit'; code: number };

/** To the parent. Input and output buffers are transferred, not copied. */
export type ReplicaWorkerMessage =
  | { type: 'ready'; inputs: ReplicaWorkerValue[]; outputs: ReplicaWorkerValue[] }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; outputs: ReplicaWorkerTensor[]; computeMs: number; error?: undefined }
  | { type: 'result'; id: number; error: string };

/** An input or output as the session describes it. */
export interface ReplicaWorkerValue {
  name: string;
  type: string;
  shape: (number | string)[];
}

/** What the worker's program is handed: what it would otherwise import. */
export interface ReplicaWorkerEnvironment {
  port: MessagePort;
  data: ReplicaWorkerData;
  ort: typeof OnnxRuntime;
  now(): number;
  exit(code: number): void;
}

/**
 * The replica worker's program: loads the model into an onnxruntime session, then runs each batch it is
 * sent. It is self-contained (it uses only what `environment` hands it and nothing from this module's
 * scope), because the worker runs it from its own source text: `replica.ts` starts the worker with
 * `String(runReplicaWorker)`, which works alike from TypeScript sources, the ESM build and the CJS build,
 * with no file to locate at run time, and the program is still type-checked and linted.
 */
export async function runReplicaWorker(environment: ReplicaWorkerEnvironment): Promise<void> {
  const { port, data, ort } = environment;
  const describe = (metadata: readonly OnnxRuntime.InferenceSession.ValueMetadata[]): ReplicaWorkerValue[] =>
    metadata.map((value) => ({
      name: value.name,
      type: value.isTensor ? value.type : 'non-tensor',
      shape: value.isTensor ? value.shape.slice() : [],
    }));
  const messageOf = (error: unknown) => String((error as Error | undefined)?.message ?? error);
  const post = (message: ReplicaWorkerMessage, transfer: ArrayBuffer[] = []) =>
    port.postMessage(message, transfer);
  let session: OnnxRuntime.InferenceSession;
  try {
    session = await ort.InferenceSession.create(data.model, {
      executionProviders: data.executionProviders,
      intraOpNumThreads: data.intraOpThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    });
  } catch (error) {
    post({ type: 'failed', message: messageOf(error) });
    return;
  }
  port.on('message', async (message: ReplicaWorkerRequest) => {
    if (message.type === 'exit') return environment.exit(message.code);
    if (message.type !== 'run') return;
    const started = environment.now();
    try {
      const feeds: Record<string, OnnxRuntime.Tensor> = {};
      for (const feed of message.feeds) {
        feeds[feed.name] = new ort.Tensor(feed.type as 'float32', feed.data as Float32Array, feed.dims);
      }
      const result = await session.run(feeds);
      const outputs: ReplicaWorkerTensor[] = [];
      const transfer: ArrayBuffer[] = [];
      for (const name of session.outputNames) {
        const tensor = result[name]!;
        const values = tensor.data;
        outputs.push({ name, type: tensor.type, data: values, dims: tensor.dims.slice() });
        const buffer = (values as { buffer?: unknown }).buffer;
        if (buffer instanceof ArrayBuffer && !transfer.includes(buffer)) transfer.push(buffer);
      }
      post({ type: 'result', id: message.id, outputs, computeMs: environment.now() - started }, transfer);
    } catch (error) {
      post({ type: 'result', id: message.id, error: messageOf(error) });
    }
  });
  post({ type: 'ready', inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata) });
}
