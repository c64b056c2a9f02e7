/**
 * The replica worker's program. It is plain JavaScript run with `new Worker(source, { eval: true })`, so
 * it works the same from TypeScript sources (tests), the ESM build and the CJS build, with no file to
 * locate at run time.
 *
 * Protocol. workerData: { ortPath, model (Uint8Array), executionProviders, intraOpThreads }.
 * Out: { type: 'ready', inputs, outputs } | { type: 'failed', message }.
 * In: { type: 'run', id, feeds: [{ name, type, data, dims }] } → out: { type: 'result', id, outputs:
 * [{ name, type, data, dims }], computeMs } or { type: 'result', id, error }. Input and output buffers
 * are transferred, not copied. In: { type: 'exit', code } ends the worker as a crash would.
 */
export const replicaWorkerSource = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const ort = require(workerData.ortPath);

function describe(metadata) {
  return metadata.map((value) => ({ name: value.name, type: value.isTensor ? value.type : 'non-tensor', shape: value.isTensor ? value.shape.slice() : [] }));
}

async function main() {
  let session;
  try {
    session = await ort.InferenceSession.create(workerData.model, {
      executionProviders: workerData.executionProviders,
      intraOpNumThreads: workerData.intraOpThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    });
  } catch (error) {
    parentPort.postMessage({ type: 'failed', message: String((error && error.message) || error) });
    return;
  }
  parentPort.on('message', async (message) => {
    // Ends the worker as a crash would (tests of crash recovery use it).
    if (message.type === 'exit') process.exit(message.code);
    if (message.type !== 'run') return;
    const started = performance.now();
    try {
      const feeds = {};
      for (const feed of message.feeds) feeds[feed.name] = new ort.Tensor(feed.type, feed.data, feed.dims);
      const result = await session.run(feeds);
      const outputs = [];
      const transfer = [];
      for (const name of session.outputNames) {
        const tensor = result[name];
        const data = tensor.data;
        outputs.push({ name, type: tensor.type, data, dims: tensor.dims.slice() });
        if (data && data.buffer instanceof ArrayBuffer && !transfer.includes(data.buffer)) transfer.push(data.buffer);
      }
      parentPort.postMessage({ type: 'result', id: message.id, outputs, computeMs: performance.now() - started }, transfer);
    } catch (error) {
      parentPort.postMessage({ type: 'result', id: message.id, error: String((error && error.message) || error) });
    }
  });
  parentPort.postMessage({ type: 'ready', inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata) });
}
main();
`;
