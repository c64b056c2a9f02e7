import type { Batching } from '@mlscale/core';
import type { ModelSignature } from '../onnx/model-signature.js';
import type { DeviceSelection } from '../runtime/device-selection.js';
import { type Replica, startReplica } from '../runtime/replica.js';
import type { ServingMetrics } from '../server/serving-metrics.js';
import { createDynamicBatcher, type DynamicBatcher } from './dynamic-batcher.js';
import { InferenceError, type InferenceRequest, type InferenceResult } from './inference-types.js';
import { validateInputs } from './validate-inputs.js';
import { createWindowStats, type WindowStats } from './window-stats.js';

/** Where a version's model came from and what it is. */
export interface LoadedModel {
  /** The spec's model reference, as JSON (compared to detect a new version). */
  reference: string;
  /** The resolved file. */
  path: string;
  bytes: Uint8Array;
  signature: ModelSignature;
}

/** One model version of a deployment: its replicas, batcher and live statistics. */
export interface ModelVersion {
  /** "1", "2", ...: the V2 `model_version`. */
  readonly label: string;
  readonly model: LoadedModel;
  /** Replicas serving now (not draining). */
  readonly readyReplicas: number;
  /** What `setReplicas` converges to. */
  readonly desiredReplicas: number;
  readonly batcher: DynamicBatcher;
  /** The serving replicas (for status and tests). */
  replicas(): readonly Replica[];
  /** Requests, errors, latencies and concurrency since the autoscaler's or rollout's last look. */
  readonly stats: WindowStats;
  /** Validates and runs one request. */
  infer(request: InferenceRequest): Promise<InferenceResult>;
  /** Starts or drains replicas to reach `count`; resolves when they are ready or drained. */
  setReplicas(count: number): Promise<void>;
  configure(batching: Batching): void;
  /** Drains every replica (in-flight requests finish) and stops. */
  close(): Promise<void>;
}

export interface ModelVersionOptions {
  label: string;
  model: LoadedModel;
  batching: Batching;
  device: DeviceSelection;
  intraOpThreads: number;
  ortPath: string;
  metrics: ServingMetrics;
  /** Called when a request waits and the version has no replica (scale to zero): is one coming? */
  onDemandWithoutReplicas(): boolean;
  /** Called when a replica joins or leaves. */
  onReplicasChanged(): void;
  /** Called when a replica's worker dies, or its replacement fails to start. */
  onReplicaCrashed?(replicaId: string, reason: string): void;
}

export function createModelVersion(options: ModelVersionOptions): ModelVersion {
  const { label, model, metrics } = options;
  const replicas: Replica[] = [];
  let desired = 0;
  let starting = 0;
  let replicaCounter = 0;
  const stats = createWindowStats();
  let closing = false;

  const batcher = createDynamicBatcher({
    batching: options.batching,
    batchable: model.signature.batchable,
    replicas: () => replicas,
    events: {
      onBatch: (rows, _requests, computeSeconds) => metrics.batchExecuted(label, rows, computeSeconds),
      onQueued: (seconds) => metrics.requestQueued(label, seconds),
      onPendingChange: (pending) => metrics.setPending(label, pending),
      // Replicas on their way (a start, a scale-up) will serve the queue.
      onDemandWithoutReplicas: () => desired > 0 || starting > 0 || options.onDemandWithoutReplicas(),
    },
  });

  const publish = () => {
    metrics.setReplicas(label, replicas.length, desired);
    options.onReplicasChanged();
  };

  async function addReplica(): Promise<void> {
    starting++;
    try {
      const replica = await startReplica({
        id: `${label}-${++replicaCounter}`,
        model: model.bytes,
        ortPath: options.ortPath,
        executionProviders: options.device.executionProviders,
        intraOpThreads: options.intraOpThreads,
        onUnexpectedExit: (crashed, reason) => replaceCrashed(crashed, reason),
      });
      if (closing || replicas.length >= desired) {
        // Scaled down (or closed) while it was starting: not needed any more.
        await replica.terminate();
        return;
      }
      replicas.push(replica);
    } finally {
      starting--;
      publish();
    }
    batcher.pump();
  }

  /** A worker died (its in-flight requests already failed with 500): drop it and start another. */
  function replaceCrashed(crashed: Replica, reason: string) {
    const index = replicas.indexOf(crashed);
    if (index >= 0) replicas.splice(index, 1);
    publish();
    options.onReplicaCrashed?.(crashed.id, reason);
    if (!closing && replicas.length + starting < desired) {
      addReplica().catch((error: unknown) =>
        options.onReplicaCrashed?.(
          `${label}-replacement`,
          error instanceof Error ? error.message : String(error),
        ),
      );
    }
  }

  async function removeReplica(): Promise<void> {
    // The least loaded leaves, so draining is short; the router stops sending it work at once.
    const victim = replicas.reduce<Replica | undefined>(
      (best, replica) => (!best || replica.inFlightRows < best.inFlightRows ? replica : best),
      undefined,
    );
    if (!victim) return;
    replicas.splice(replicas.indexOf(victim), 1);
    publish();
    await victim.drain();
    batcher.pump();
  }

  return {
    label,
    model,
    get readyReplicas() {
      return replicas.length;
    },
    get desiredReplicas() {
      return desired;
    },
    batcher,
    stats,
    replicas: () => replicas,
    async infer(request) {
      const started = performance.now();
      stats.requestStarted();
      metrics.requestStarted(label);
      try {
        const { rows, batchKey } = validateInputs(request, model.signature);
        const { outputs } = await batcher.enqueue(request, rows, batchKey);
        const seconds = (performance.now() - started) / 1000;
        metrics.requestSucceeded(label, seconds);
        stats.requestFinished(seconds, false);
        return { modelVersion: label, outputs };
      } catch (error) {
        const reason = error instanceof InferenceError ? error.reason : 'internal';
        metrics.requestFailed(label, reason);
        // Only server-side failures count against a version (a client's bad input is not its fault).
        stats.requestFinished(
          (performance.now() - started) / 1000,
          !(error instanceof InferenceError) || error.status >= 500,
        );
        throw error;
      }
    },
    async setReplicas(count) {
      desired = count;
      publish();
      const work: Promise<void>[] = [];
      for (let missing = count - replicas.length - starting; missing > 0; missing--) work.push(addReplica());
      for (let extra = replicas.length - count; extra > 0; extra--) work.push(removeReplica());
      const results = await Promise.allSettled(work);
      const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw failed.reason;
    },
    configure(batching) {
      batcher.configure(batching);
    },
    async close() {
      closing = true;
      desired = 0;
      // Requests already queued here still finish (traffic was moved away before close).
      const deadline = performance.now() + options.batching.requestTimeoutMs;
      while (batcher.outstanding > 0 && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      batcher.close(new InferenceError(503, `model version ${label} was removed`, 'unavailable', 1));
      await Promise.all(replicas.splice(0).map((replica) => replica.drain()));
      metrics.removeVersion(label);
    },
  };
}
