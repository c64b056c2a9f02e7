import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { readGpuStats } from '../gpu/nvidia-smi.js';
import type { DeviceSelection } from '../runtime/device-selection.js';

/** The per-version metric children, bound once (prom-client still hashes the two labels per update: ~100 ns). */
interface VersionMetrics {
  inFlight: Gauge.Internal<string>;
  success: Counter.Internal;
  inferenceCount: Counter.Internal;
  execCount: Counter.Internal;
  pending: Gauge.Internal<string>;
  requestMicroseconds: Counter.Internal;
  queueMicroseconds: Counter.Internal;
  computeMicroseconds: Counter.Internal;
  requestSeconds: Histogram.Internal<string>;
  queueSeconds: Histogram.Internal<string>;
  computeSeconds: Histogram.Internal<string>;
  batchSize: Histogram.Internal<string>;
}

/**
 * A deployment's Prometheus metrics, modelled on Triton's (`nv_*`, labels `model`, `version`) plus
 * histograms, replicas and device under `mlscale_*`. One registry per deployment, so two deployments in
 * one process never mix.
 */
export interface ServingMetrics {
  readonly registry: Registry;
  /** A request entered the version (validated or not); pair with requestSucceeded or requestFailed. */
  requestStarted(version: string): void;
  requestSucceeded(version: string, seconds: number): void;
  requestFailed(version: string, reason: string): void;
  /** One request's time in the queue, when its batch started. */
  requestQueued(version: string, seconds: number): void;
  /** One batch: its requests and rows, and its compute time. */
  batchExecuted(version: string, rows: number, computeSeconds: number): void;
  setPending(version: string, requests: number): void;
  setReplicas(version: string, ready: number, desired: number): void;
  /** Drops a version's replica and pending series once it is gone. */
  removeVersion(version: string): void;
  setDevice(device: Pick<DeviceSelection, 'requested' | 'used' | 'reason'>): void;
  text(): Promise<string>;
}

const durationBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const batchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

export function createServingMetrics(model: string, options: { gpuStats?: boolean } = {}): ServingMetrics {
  const registry = new Registry();
  const labelNames = ['model', 'version'] as const;
  const counter = (name: string, help: string, extra: string[] = []) =>
    new Counter({ name, help, labelNames: [...labelNames, ...extra], registers: [registry] });
  const histogram = (name: string, help: string, buckets: number[]) =>
    new Histogram({ name, help, labelNames: [...labelNames], buckets, registers: [registry] });

  const success = counter('nv_inference_request_success', 'Successful inference requests.');
  const failure = counter('nv_inference_request_failure', 'Failed inference requests, by reason.', [
    'reason',
  ]);
  const inferenceCount = counter('nv_inference_count', 'Inferences performed (a batch of n rows counts n).');
  const execCount = counter(
    'nv_inference_exec_count',
    'Model executions (batches); average batch = count / exec_count.',
  );
  const pending = new Gauge({
    name: 'nv_inference_pending_request_count',
    help: 'Requests waiting in the queue.',
    labelNames: [...labelNames],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'mlscale_inflight_requests',
    help: 'Requests queued or running now (the autoscaler divides it by ready replicas).',
    labelNames: [...labelNames],
    registers: [registry],
  });
  const requestMicroseconds = counter(
    'nv_inference_request_duration_us',
    'Cumulative request duration, microseconds.',
  );
  const queueMicroseconds = counter('nv_inference_queue_duration_us', 'Cumulative queue wait, microseconds.');
  const computeMicroseconds = counter(
    'nv_inference_compute_infer_duration_us',
    'Cumulative compute time, microseconds.',
  );
  const requestSeconds = histogram(
    'mlscale_request_duration_seconds',
    'Request duration, end to end in the server.',
    durationBuckets,
  );
  const queueSeconds = histogram(
    'mlscale_queue_duration_seconds',
    'Time a request waited for its batch.',
    durationBuckets,
  );
  const computeSeconds = histogram(
    'mlscale_compute_duration_seconds',
    'Compute time of one batch.',
    durationBuckets,
  );
  const batchSize = histogram('mlscale_batch_size', 'Rows per model execution.', batchBuckets);
  const replicas = new Gauge({
    name: 'mlscale_replicas',
    help: 'Replicas per version: state="ready" serve now, state="desired" is the target.',
    labelNames: [...labelNames, 'state'],
    registers: [registry],
  });
  const deviceInfo = new Gauge({
    name: 'mlscale_device_info',
    help: 'The device serving (1): what was requested, what is used and why.',
    labelNames: ['model', 'requested', 'used', 'reason'],
    registers: [registry],
  });
  let lastCpu = process.cpuUsage();
  let lastCpuAt = process.hrtime.bigint();
  new Gauge({
    name: 'nv_cpu_utilization',
    help: 'Share (0–1) of one core this server process used since the previous scrape.',
    registers: [registry],
    collect() {
      const now = process.hrtime.bigint();
      const usage = process.cpuUsage(lastCpu);
      const elapsedMicroseconds = Number(now - lastCpuAt) / 1000;
      lastCpu = process.cpuUsage();
      lastCpuAt = now;
      if (elapsedMicroseconds > 0) this.set((usage.user + usage.system) / elapsedMicroseconds);
    },
  });
  if (options.gpuStats) {
    const gpuLabels = ['gpu', 'name'];
    const utilization = new Gauge({
      name: 'nv_gpu_utilization',
      help: 'GPU utilization (0–1), from nvidia-smi.',
      labelNames: gpuLabels,
      registers: [registry],
    });
    const memoryTotal = new Gauge({
      name: 'nv_gpu_memory_total_bytes',
      help: 'GPU memory, from nvidia-smi.',
      labelNames: gpuLabels,
      registers: [registry],
    });
    const memoryUsed = new Gauge({
      name: 'nv_gpu_memory_used_bytes',
      help: 'GPU memory in use, from nvidia-smi.',
      labelNames: gpuLabels,
      registers: [registry],
      // Read at scrape time; with no GPU the series are simply absent.
      async collect() {
        const stats = await readGpuStats();
        utilization.reset();
        memoryTotal.reset();
        memoryUsed.reset();
        if (!stats.available) return;
        for (const gpu of stats.gpus) {
          const labels = { gpu: String(gpu.index), name: gpu.name };
          utilization.set(labels, gpu.utilizationPercent / 100);
          memoryTotal.set(labels, gpu.memoryTotalBytes);
          memoryUsed.set(labels, gpu.memoryUsedBytes);
        }
      },
    });
  }

  const children = new Map<string, VersionMetrics>();
  const forVersion = (version: string): VersionMetrics => {
    let entry = children.get(version);
    if (!entry) {
      const labels = { model, version };
      entry = {
        inFlight: inFlight.labels(labels),
        success: success.labels(labels),
        inferenceCount: inferenceCount.labels(labels),
        execCount: execCount.labels(labels),
        pending: pending.labels(labels),
        requestMicroseconds: requestMicroseconds.labels(labels),
        queueMicroseconds: queueMicroseconds.labels(labels),
        computeMicroseconds: computeMicroseconds.labels(labels),
        requestSeconds: requestSeconds.labels(labels),
        queueSeconds: queueSeconds.labels(labels),
        computeSeconds: computeSeconds.labels(labels),
        batchSize: batchSize.labels(labels),
      };
      children.set(version, entry);
    }
    return entry;
  };

  return {
    registry,
    requestStarted(version) {
      forVersion(version).inFlight.inc();
    },
    requestSucceeded(version, seconds) {
      const entry = forVersion(version);
      entry.inFlight.dec();
      entry.success.inc();
      entry.requestSeconds.observe(seconds);
      entry.requestMicroseconds.inc(Math.round(seconds * 1e6));
    },
    requestFailed(version, reason) {
      forVersion(version).inFlight.dec();
      failure.inc({ model, version, reason });
    },
    requestQueued(version, seconds) {
      const entry = forVersion(version);
      entry.queueSeconds.observe(seconds);
      entry.queueMicroseconds.inc(Math.round(seconds * 1e6));
    },
    batchExecuted(version, rows, seconds) {
      const entry = forVersion(version);
      entry.execCount.inc();
      entry.inferenceCount.inc(rows);
      entry.batchSize.observe(rows);
      entry.computeSeconds.observe(seconds);
      entry.computeMicroseconds.inc(Math.round(seconds * 1e6));
    },
    setPending(version, requests) {
      forVersion(version).pending.set(requests);
    },
    setReplicas(version, ready, desired) {
      replicas.set({ model, version, state: 'ready' }, ready);
      replicas.set({ model, version, state: 'desired' }, desired);
    },
    removeVersion(version) {
      replicas.remove({ model, version, state: 'ready' });
      replicas.remove({ model, version, state: 'desired' });
      pending.remove({ model, version });
      inFlight.remove({ model, version });
      children.delete(version);
    },
    setDevice(device) {
      deviceInfo.reset();
      deviceInfo.set(
        { model, requested: device.requested, used: device.used, reason: device.reason ?? '' },
        1,
      );
    },
    text: () => registry.metrics(),
  };
}
