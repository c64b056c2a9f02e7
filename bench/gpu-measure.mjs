// One execution provider of onnxruntime-node, measured on the reference model, for bench/gpu-check.sh.
// Usage: node gpu-measure.mjs '{"ort":DIR,"model":PATH,"provider":"cpu"|"cuda"|"webgpu",
//   "batches":[1,32,256],"durationMs":3000}'
// It creates a session with only that provider (so a provider that cannot load fails here instead of
// falling back to CPU in silence), checks its outputs against a CPU session of the same package, then
// runs each batch size back to back. Prints one JSON line: {provider, ok, error?, figures: [...]}.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { inputRows, modelInput } from './lib/request-bodies.mjs';

const options = { batches: [1, 32, 256], durationMs: 3_000, ...JSON.parse(process.argv[2] ?? '{}') };
const require = createRequire(import.meta.url);

function percentile(sorted, fraction) {
  return sorted.length === 0
    ? 0
    : sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

function providerOption(name) {
  if (name === 'cuda') return [{ name: 'cuda', deviceId: 0 }];
  return [name];
}

async function main() {
  const ort = require(options.ort ?? 'onnxruntime-node');
  const model = readFileSync(options.model);
  const sessionOptions = { graphOptimizationLevel: 'all', logSeverityLevel: 3 };
  const cpu = await ort.InferenceSession.create(model, { ...sessionOptions, executionProviders: ['cpu'] });
  const createStarted = performance.now();
  const session = await ort.InferenceSession.create(model, {
    ...sessionOptions,
    executionProviders: providerOption(options.provider),
  });
  const createMs = performance.now() - createStarted;
  const figures = [];
  for (const batch of options.batches) {
    const feeds = {
      [modelInput.name]: new ort.Tensor('float32', inputRows(batch), [batch, modelInput.width]),
    };
    // The first run compiles kernels and uploads weights; its time is reported apart.
    const firstStarted = performance.now();
    const output = (await session.run(feeds))[modelInput.outputName].data;
    const firstRunMs = performance.now() - firstStarted;
    const expected = (await cpu.run(feeds))[modelInput.outputName].data;
    let maxDifference = 0;
    for (let index = 0; index < expected.length; index++) {
      maxDifference = Math.max(maxDifference, Math.abs(output[index] - expected[index]));
    }
    const latencies = [];
    const end = performance.now() + options.durationMs;
    for (let now = performance.now(); now < end; ) {
      const before = now;
      await session.run(feeds);
      now = performance.now();
      latencies.push(now - before);
    }
    const seconds = latencies.reduce((sum, value) => sum + value, 0) / 1000;
    latencies.sort((left, right) => left - right);
    figures.push({
      batch,
      runs: latencies.length,
      inferencesPerSecond: (latencies.length * batch) / seconds,
      latencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) },
      firstRunMs,
      maxDifferenceFromCpu: maxDifference,
    });
  }
  await session.release();
  await cpu.release();
  return { provider: options.provider, ok: true, sessionCreateMs: createMs, figures };
}

main().then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error) => {
    const message = String(error?.message ?? error)
      .split('\n')
      .slice(0, 4)
      .join(' ');
    process.stdout.write(`${JSON.stringify({ provider: options.provider, ok: false, error: message })}\n`);
    process.exitCode = 1;
  },
);
