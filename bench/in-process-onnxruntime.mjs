// onnxruntime-node in process, no HTTP: the compute limit. Each of `workers` worker threads holds its own
// InferenceSession with the server replica's options (intra-op threads as given, one inter-op thread,
// all graph optimizations) and runs the same batch back to back for a fixed time.
// Usage: node in-process-onnxruntime.mjs '{"model":PATH,"batch":32,"threads":1,"workers":1,
//   "durationMs":5000,"warmupMs":1000,"executionProviders":["cpu"]}'
// Prints one JSON line: {"inferencesPerSecond", "callsPerSecond", "latencyMs": {p50, p99}, ...}.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { inputRows, modelInput } from './lib/request-bodies.mjs';

/** Percentile of sorted values (nearest rank). */
function percentile(sorted, fraction) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

async function measureInWorker({ model, batch, threads, durationMs, warmupMs, executionProviders }) {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(readFileSync(model), {
    executionProviders,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  const feeds = {
    [modelInput.name]: new ort.Tensor('float32', inputRows(batch), [batch, modelInput.width]),
  };
  const warmupEnd = performance.now() + warmupMs;
  while (performance.now() < warmupEnd) await session.run(feeds);
  const latencies = [];
  const started = performance.now();
  const end = started + durationMs;
  let now = started;
  while (now < end) {
    const before = now;
    await session.run(feeds);
    now = performance.now();
    latencies.push(now - before);
  }
  await session.release();
  return { calls: latencies.length, elapsedMs: now - started, latencies };
}

if (!isMainThread) {
  parentPort.postMessage(await measureInWorker(workerData));
} else {
  const settings = JSON.parse(process.argv[2] ?? '{}');
  const options = {
    batch: 1,
    threads: 1,
    workers: 1,
    durationMs: 5_000,
    warmupMs: 1_000,
    executionProviders: ['cpu'],
    ...settings,
  };
  if (typeof options.model !== 'string') throw new Error('expected {"model": "/path/to/model.onnx", ...}');
  const results = await Promise.all(
    Array.from(
      { length: options.workers },
      () =>
        new Promise((resolve, reject) => {
          const worker = new Worker(new URL(import.meta.url), { workerData: options });
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
    ),
  );
  const calls = results.reduce((sum, result) => sum + result.calls, 0);
  const seconds = Math.max(...results.map((result) => result.elapsedMs)) / 1000;
  const latencies = results.flatMap((result) => result.latencies).sort((left, right) => left - right);
  process.stdout.write(
    `${JSON.stringify({
      batch: options.batch,
      threads: options.threads,
      workers: options.workers,
      executionProviders: options.executionProviders,
      calls,
      seconds,
      callsPerSecond: calls / seconds,
      inferencesPerSecond: (calls * options.batch) / seconds,
      latencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) },
    })}\n`,
  );
}
