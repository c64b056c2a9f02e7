import { runReplicaWorker } from './replica-worker.js';

/**
 * The source a replica worker runs with `new Worker(source, { eval: true })`: `runReplicaWorker`'s own
 * text, called with what it needs (see its comment for why it travels as text).
 */
export const replicaWorkerSource = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
(${String(runReplicaWorker)})({
  port: parentPort,
  data: workerData,
  ort: require(workerData.ortPath),
  now: () => performance.now(),
  exit: (code) => process.exit(code),
});
`;
