import { bench, describe } from 'vitest';
import { createLocalMonitoring } from '../../src/monitoring/index.js';

// `npx vitest bench --run packages/local-gpu/test/monitoring`: the per-request cost on the server's hot path.
const monitoring = createLocalMonitoring({ sampleIntervalMs: false });
const monitor = monitoring.deployment('bench');
const statuses = [200, 200, 200, 200, 200, 200, 200, 429, 200, 503];
const records = statuses.map((status, index) => ({
  route: 'POST /v2/models/bench/infer',
  status,
  latencyMs: 0.5 + index * 1.7,
  batchSize: 8,
  replica: index % 2,
  modelVersion: '1',
}));
let next = 0;

const callsPerIteration = 1000;

// Each iteration makes 1000 calls, so ns/op = the reported mean (ms) × 1000; the loop keeps the harness
// overhead out of the figure.
describe('recordRequest × 1000', () => {
  bench('recordRequest (counters, latency histogram, request log)', () => {
    for (let call = 0; call < callsPerIteration; call++)
      monitor.recordRequest(records[next++ % records.length]!);
  });
  bench('baseline: the loop alone', () => {
    let sum = 0;
    for (let call = 0; call < callsPerIteration; call++) sum += records[next++ % records.length]!.status;
    if (sum < 0) throw new Error('unreachable');
  });
});
