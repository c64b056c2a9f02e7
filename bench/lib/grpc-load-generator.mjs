// The gRPC load generator: closed-loop unary ModelInfer calls from @grpc/grpc-js, the gRPC counterpart
// of wrk (load-generator.mjs). runGrpcLoad() runs it in a child Node process of its own, so that the
// calls do not share an event loop with the bench; that child runs this file.
import { resolve as resolvePath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { runToCompletion } from './child-processes.mjs';
import { machineCpuTicks, processTreeCpuSeconds } from './cpu-usage.mjs';
import { inferenceServiceClient, rawInferRequest } from './grpc-client.mjs';
import { inputRows } from './request-bodies.mjs';

const thisFile = fileURLToPath(import.meta.url);
const modelInferPath = '/inference.GRPCInferenceService/ModelInfer';

/**
 * @typedef {object} GrpcLoadOptions
 * @property {string} target host:port of the gRPC server
 * @property {string} model model name in the request
 * @property {number} rows rows per request (the bench's seeded input rows, as raw FP32 bytes)
 * @property {number} connections concurrent closed-loop calls
 * @property {number} durationSeconds measured seconds
 * @property {number} [warmupSeconds] unmeasured seconds before, on the same channels (default 0)
 * @property {number} [callsPerChannel] concurrent calls per channel (HTTP/2 connection); default 16
 * @property {number} [timeoutSeconds] per-call deadline (default 10, as wrk's --timeout)
 * @property {number} [readySeconds] how long the channels may take to connect (default 10)
 * @property {number} [serverPid] when given, the server's CPU cores over the measured window are reported
 */

/**
 * Runs the load generator in a child Node process and returns its result, shaped as runWrk's (plus
 * `codes`, the failed calls by gRPC status name, `channels`, `clientCores` (the generator's own CPU) and the
 * server's CPU when `serverPid` is set).
 *
 * @param {GrpcLoadOptions} options
 */
export async function runGrpcLoad(options) {
  const stdout = await runToCompletion(process.execPath, [thisFile, JSON.stringify(options)]);
  return parseGrpcLoadOutput(stdout);
}

/**
 * Reads the `GRPC_JSON {...}` line the child prints.
 *
 * @param {string} stdout
 */
export function parseGrpcLoadOutput(stdout) {
  const line = stdout.split('\n').find((candidate) => candidate.startsWith('GRPC_JSON '));
  if (!line) throw new Error(`the gRPC load generator printed no GRPC_JSON summary:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice('GRPC_JSON '.length));
}

/**
 * Latency percentiles (ms) and counts in runWrk's shape.
 *
 * @param {number[]} latencies milliseconds of the calls answered OK in the measured window
 * @param {number} seconds the measured window
 * @param {Record<string, number>} codes failed calls by gRPC status name
 */
export function summarize(latencies, seconds, codes) {
  const sorted = Float64Array.from(latencies).sort();
  const percentile = (q) => (sorted.length === 0 ? 0 : sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]);
  const count = (names) => names.reduce((total, name) => total + (codes[name] ?? 0), 0);
  const failed = Object.values(codes).reduce((total, value) => total + value, 0);
  const timeout = count(['DEADLINE_EXCEEDED']);
  const connect = count(['UNAVAILABLE']);
  const errors = { connect, read: 0, write: 0, status: failed - timeout - connect, timeout };
  const mean = sorted.length === 0 ? 0 : sorted.reduce((total, value) => total + value, 0) / sorted.length;
  return {
    requests: sorted.length,
    seconds,
    requestsPerSecond: sorted.length / seconds,
    failed,
    errors,
    codes,
    latencyMs: {
      mean,
      p50: percentile(0.5),
      p90: percentile(0.9),
      p99: percentile(0.99),
      max: sorted.length === 0 ? 0 : sorted[sorted.length - 1],
    },
  };
}

/**
 * The load itself, in this process: `connections` loops, each sending one ModelInfer call and the next
 * as soon as it is answered, spread over ceil(connections / callsPerChannel) channels (one HTTP/2
 * connection each). The request is serialized once and the answers are not decoded (as wrk sends fixed
 * bytes and does not parse), so the client's cost per call stays small.
 *
 * @param {GrpcLoadOptions} options
 */
export async function generateGrpcLoad(options) {
  const timeoutMs = (options.timeoutSeconds ?? 10) * 1000;
  const callsPerChannel = options.callsPerChannel ?? 16;
  const Service = inferenceServiceClient();
  const encoded = Service.service.ModelInfer.requestSerialize(
    rawInferRequest(options.model, inputRows(options.rows)),
  );
  const channelCount = Math.max(1, Math.ceil(options.connections / callsPerChannel));
  // A local subchannel pool per client: each client gets its own connection instead of sharing one.
  const clients = Array.from(
    { length: channelCount },
    () =>
      new Service(options.target, grpc.credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
        'grpc.max_receive_message_length': -1,
        'grpc.max_send_message_length': -1,
      }),
  );
  try {
    await Promise.all(
      clients.map(
        (client) =>
          new Promise((resolve, reject) =>
            client.waitForReady(Date.now() + (options.readySeconds ?? 10) * 1000, (error) =>
              error ? reject(new Error(`gRPC ${options.target} not ready: ${error.message}`)) : resolve(),
            ),
          ),
      ),
    );
    const identity = (value) => value;
    /** @type {number[]} */
    let latencies = [];
    /** @type {Record<string, number>} */
    let codes = {};
    let measuring = false;
    let stopping = false;
    const loop = (client) =>
      new Promise((resolve) => {
        const next = () => {
          if (stopping) return resolve();
          const startedAt = performance.now();
          client.makeUnaryRequest(
            modelInferPath,
            identity,
            identity,
            encoded,
            { deadline: Date.now() + timeoutMs },
            (error) => {
              if (measuring && !stopping) {
                if (error) {
                  const name = grpc.status[error.code] ?? String(error.code);
                  codes[name] = (codes[name] ?? 0) + 1;
                } else {
                  latencies.push(performance.now() - startedAt);
                }
              }
              next();
            },
          );
        };
        next();
      });
    const loops = Array.from({ length: options.connections }, (_, index) =>
      loop(clients[index % channelCount]),
    );
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    await sleep((options.warmupSeconds ?? 0) * 1000);
    latencies = [];
    codes = {};
    const serverBefore = processTreeCpuSeconds(options.serverPid);
    const machineBefore = machineCpuTicks();
    const clientBefore = process.cpuUsage();
    const measuredFrom = performance.now();
    measuring = true;
    await sleep(options.durationSeconds * 1000);
    stopping = true;
    const seconds = (performance.now() - measuredFrom) / 1000;
    const serverAfter = processTreeCpuSeconds(options.serverPid);
    const machineAfter = machineCpuTicks();
    const client = process.cpuUsage(clientBefore);
    await Promise.all(loops);
    const result = {
      ...summarize(latencies, seconds, codes),
      channels: channelCount,
      // The load generator's own CPU over the measured window (it shares the machine with the server).
      clientCores: (client.user + client.system) / 1e6 / seconds,
    };
    if (serverBefore !== undefined && serverAfter !== undefined) {
      result.serverCores = (serverAfter - serverBefore) / seconds;
    }
    if (machineBefore && machineAfter && machineAfter.total > machineBefore.total) {
      result.machineBusy =
        (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total);
    }
    return result;
  } finally {
    for (const client of clients) client.close();
  }
}

if (process.argv[1] && resolvePath(process.argv[1]) === thisFile) {
  const options = JSON.parse(process.argv[2] ?? '{}');
  generateGrpcLoad(options).then(
    (result) => {
      process.stdout.write(`GRPC_JSON ${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (error) => {
      process.stderr.write(`grpc load generator: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
