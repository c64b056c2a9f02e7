// What bounds JSON serving: the main thread's busy time per request, for `mlscale serve`'s server and the
// bare floor, both in this process (so the event loop's utilization can be read), driven by wrk.
// Usage (after pnpm build): node bench/main-thread-cost.mjs [--replicas N] [--max-queue-delay-ms MS]
//   [--duration S] [--connections 16,64]
// Prints, per server and connection count: requests/s, event-loop utilization, busy µs per request.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createMlscale } from '@mlscale/core';
import { localGpu } from '@mlscale/local-gpu';
import { floorHandler } from './floor-server.mjs';
import { runWrk } from './lib/load-generator.mjs';
import { referenceModels, seedFlaskDirectory } from './lib/reference-model.mjs';
import { inputRows, v2JsonBody } from './lib/request-bodies.mjs';

const { values } = parseArgs({
  options: {
    replicas: { type: 'string', default: '2' },
    'max-queue-delay-ms': { type: 'string', default: '2' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16,64' },
  },
});
const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
const models = await referenceModels(seedFlaskDirectory(repositoryRoot));
const folder = await mkdtemp(join(tmpdir(), 'mlscale-main-thread-'));
const bodyPath = join(folder, 'v2-one-row.json');
await writeFile(bodyPath, v2JsonBody(inputRows(1)));

const client = createMlscale({ backend: localGpu({ root: join(folder, '.mlscale'), device: 'cpu' }) });
const floor = createServer(floorHandler);
floor.keepAliveTimeout = 65_000;
try {
  const status = await client.deploy({
    name: 'model',
    model: { uri: models.onnxPath },
    replicas: Number(values.replicas),
    batching: { maxBatchSize: 32, maxQueueDelayMs: Number(values['max-queue-delay-ms']) },
  });
  await new Promise((resolve) => floor.listen(0, '127.0.0.1', resolve));
  const targets = [
    ['mlscale serve', `${status.endpoint?.url}/v2/models/model/infer`],
    ['floor', `http://127.0.0.1:${floor.address().port}/v2/models/model/infer`],
  ];
  process.stdout.write(
    `replicas ${values.replicas}, max queue delay ${values['max-queue-delay-ms']} ms\n` +
      '| server | conns | requests/s | event-loop utilization | main-thread µs/request |\n| - | -: | -: | -: | -: |\n',
  );
  for (const connections of values.connections.split(',').map(Number)) {
    for (const [name, url] of targets) {
      const load = { url, bodyPath, contentType: 'application/json', connections };
      await runWrk({ ...load, durationSeconds: 1 });
      const before = performance.eventLoopUtilization();
      const result = await runWrk({ ...load, durationSeconds: Number(values.duration) });
      const used = performance.eventLoopUtilization(before);
      process.stdout.write(
        `| ${name} | ${connections} | ${Math.round(result.requestsPerSecond)} | ${used.utilization.toFixed(2)} | ${((used.active * 1000) / Math.max(1, result.requests)).toFixed(1)} |\n`,
      );
    }
  }
} finally {
  await client.close();
  floor.closeAllConnections();
  floor.close();
  await rm(folder, { recursive: true, force: true });
}
