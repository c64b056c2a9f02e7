// `pnpm bench`: the side-by-side serving benchmark of issue 3. One run, one machine, one load generator
// (wrk): (1) onnxruntime-node in process, (2) a bare node:http JSON floor, (3) the seed's Flask app under
// gunicorn, (4) `mlscale serve` with JSON and with batched binary tensors over HTTP, and with raw tensors over
// gRPC (its own closed-loop load generator, grpc-load-generator.mjs). Prints a Markdown table and the
// targets, and writes the run as JSON under bench/results/. `node bench/run.mjs --help` lists options.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  checkFlaskAnswers,
  checkFloorAnswers,
  checkMlscaleAnswers,
  checkMlscaleGrpcAnswers,
  inferenceCounters,
  referenceOutputs,
} from './lib/answer-checks.mjs';
import {
  killAllServersNow,
  runToCompletion,
  startServer,
  stopAllServers,
  stopServer,
} from './lib/child-processes.mjs';
import { withCpuUsage } from './lib/cpu-usage.mjs';
import { runGrpcLoad } from './lib/grpc-load-generator.mjs';
import { runWrk } from './lib/load-generator.mjs';
import { describeMachine } from './lib/machine.mjs';
import { ensurePrerequisites, systemPython } from './lib/prerequisites.mjs';
import { referenceModels, seedFlaskDirectory } from './lib/reference-model.mjs';
import { evaluateTargets, formatTable, formatTargets, withRatios } from './lib/report.mjs';
import { flaskJsonBody, inputRows, v2BinaryBody, v2JsonBody } from './lib/request-bodies.mjs';

const benchDirectory = fileURLToPath(new URL('.', import.meta.url));
const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
const cliBin = join(repositoryRoot, 'packages', 'cli', 'dist', 'bin.js');
const groups = ['in-process', 'floor', 'flask', 'mlscale'];
// Concurrent gRPC calls per channel (one HTTP/2 connection each): 16 → 1 channel at 16, 4 at 64.
const grpcCallsPerChannel = 16;

const usage = `Usage: node bench/run.mjs [options]   (pnpm bench builds first, then runs this)

  --duration S           seconds measured per configuration (default 8)
  --warmup S             unmeasured seconds before each one (default 2)
  --connections LIST     wrk connections, and concurrent gRPC calls (default 16,64)
  --replicas N           mlscale serve --replicas (default 2)
  --max-batch-size N     mlscale serve --max-batch-size (default 32)
  --max-queue-delay-ms N mlscale serve --max-queue-delay-ms (default 2)
  --binary-rows N        rows per binary request (default 32)
  --only LIST            run only some of: ${groups.join(',')}
  --no-install           never apt-get install; say what is missing instead
  --no-write             print only; write nothing under bench/results/
  -h, --help`;

// `pnpm bench -- --duration 3` passes the `--` through; options follow it.
const argv = process.argv.slice(2);
if (argv[0] === '--') argv.shift();
let values;
try {
  ({ values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '8' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '16,64' },
      replicas: { type: 'string', default: '2' },
      'max-batch-size': { type: 'string', default: '32' },
      'max-queue-delay-ms': { type: 'string', default: '2' },
      'binary-rows': { type: 'string', default: '32' },
      only: { type: 'string', default: groups.join(',') },
      'no-install': { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n\n${usage}\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

function positiveInteger(flag) {
  const value = Number(values[flag]);
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(
      `bench: --${flag} expects a positive integer, got ${JSON.stringify(values[flag])}\n`,
    );
    process.exit(2);
  }
  return value;
}

const settings = {
  durationSeconds: positiveInteger('duration'),
  warmupSeconds: Number(values.warmup) >= 0 ? Number(values.warmup) : 2,
  connections: values.connections.split(',').map((value) => Number(value)),
  replicas: positiveInteger('replicas'),
  maxBatchSize: positiveInteger('max-batch-size'),
  maxQueueDelayMs: Number(values['max-queue-delay-ms']),
  binaryRows: positiveInteger('binary-rows'),
};
const only = new Set(values.only.split(','));
for (const group of only) {
  if (!groups.includes(group)) {
    process.stderr.write(`bench: --only takes ${groups.join(', ')}; got ${JSON.stringify(group)}\n`);
    process.exit(2);
  }
}
for (const connections of settings.connections) {
  if (!Number.isInteger(connections) || connections < 1) {
    process.stderr.write(
      `bench: --connections expects a list of positive integers, got ${values.connections}\n`,
    );
    process.exit(2);
  }
}

const startedAt = Date.now();
function log(line) {
  process.stderr.write(`[bench +${((Date.now() - startedAt) / 1000).toFixed(0).padStart(3)}s] ${line}\n`);
}

// Servers are stopped at the end, on failure, and on Ctrl-C / SIGTERM.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: stopping every server`);
    stopAllServers().finally(() => process.exit(130));
  });
}
process.once('exit', killAllServersNow);

/** @type {import('./lib/report.mjs').BenchRow[]} */
const rows = [];
/** Groups that could not be measured, with why. */
const failures = [];
const runDirectory = await mkdtemp(join(tmpdir(), 'mlscale-bench-run-'));
let exitCode = 0;
try {
  const machineAtStart = describeMachine();
  log(
    `machine: ${machineAtStart.cpus} CPUs (${machineAtStart.cpuModel}), Node ${machineAtStart.node}, load ${machineAtStart.loadAverage.join(' ')}`,
  );
  if (machineAtStart.loadAverage[0] > machineAtStart.cpus * 1.25) {
    log(
      'warning: the machine is busy with other work; figures will be noisy (compare ratios, not absolutes)',
    );
  }
  ensurePrerequisites({ log, install: !values['no-install'] });
  if (only.has('mlscale') && !existsSync(cliBin)) {
    throw new Error(`${cliBin} is not built: run 'pnpm build' first (pnpm bench does)`);
  }
  const seedDirectory = seedFlaskDirectory(repositoryRoot);
  log('reference model (seed make_models.py, cached outside the repository)');
  const models = await referenceModels(seedDirectory);
  const bodies = await writeBodies(runDirectory, settings.binaryRows);
  const expected = {
    one: await referenceOutputs(models.onnxPath, 1),
    batch: await referenceOutputs(models.onnxPath, settings.binaryRows),
    batchRows: settings.binaryRows,
  };

  // A group that fails is reported and the others still run; the run then exits 1.
  const steps = {
    'in-process': () => measureInProcess(models.onnxPath),
    floor: () => measureFloor(bodies),
    flask: () => measureFlask(seedDirectory, models.picklePath, bodies, expected),
    mlscale: () => measureMlscale(models.onnxPath, bodies, expected),
  };
  for (const group of groups) {
    if (!only.has(group)) continue;
    try {
      await steps[group]();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.push({ group, message });
      log(`${group} failed: ${message}`);
    }
  }

  const measured = withRatios(rows);
  const results = evaluateTargets(measured);
  const machine = { ...machineAtStart, loadAverageAtEnd: describeMachine().loadAverage };
  const date = new Date(startedAt).toISOString();
  process.stdout.write(
    `\nmlscale serving bench, ${date}, ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, ` +
      `load ${machine.loadAverage.join(' ')} → ${machine.loadAverageAtEnd.join(' ')}\n` +
      `mlscale serve --replicas ${settings.replicas} --max-batch-size ${settings.maxBatchSize} ` +
      `--max-queue-delay-ms ${settings.maxQueueDelayMs}; wrk -t1, ${settings.durationSeconds} s per row after ` +
      `${settings.warmupSeconds} s warm-up; gRPC: ${settings.connections.join('/')} concurrent closed-loop ModelInfer calls from ` +
      `@grpc/grpc-js in a child process, ${grpcCallsPerChannel} calls per channel, same warm-up and duration. ` +
      '(1) = best in-process batch 32, (2) = bare floor at the same connections, (4) = mlscale serve over HTTP ' +
      'at the same connections and rows per request (V2 JSON for 1 row, V2 binary for a batch).\n\n' +
      `${formatTable(measured)}\n\nTargets:\n${formatTargets(results)}\n` +
      failures.map((failure) => `\nFAILED: ${failure.group}: ${failure.message}\n`).join(''),
  );
  if (failures.length > 0) exitCode = 1;
  if (!values['no-write']) {
    const resultsDirectory = join(benchDirectory, 'results');
    await mkdir(resultsDirectory, { recursive: true });
    const file = join(resultsDirectory, `${date.replace(/[:.]/g, '-')}.json`);
    await writeFile(
      file,
      `${JSON.stringify({ date, machine, settings, rows: measured, targets: results, failures }, null, 2)}\n`,
    );
    log(`wrote ${file}`);
  }
} catch (error) {
  exitCode = 1;
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
} finally {
  await stopAllServers();
  await rm(runDirectory, { recursive: true, force: true });
}
process.exit(exitCode);

/** Request bodies as files for wrk (it reads them as bytes). */
async function writeBodies(directory, binaryRows) {
  const one = inputRows(1);
  const binary = v2BinaryBody(inputRows(binaryRows));
  const bodies = {
    v2Json: join(directory, 'v2-one-row.json'),
    flaskJson: join(directory, 'flask-one-row.json'),
    flaskText: flaskJsonBody(one),
    v2Binary: join(directory, `v2-${binaryRows}-rows.bin`),
    v2BinaryHeaderLength: binary.headerLength,
  };
  await writeFile(bodies.v2Json, v2JsonBody(one));
  await writeFile(bodies.flaskJson, bodies.flaskText);
  await writeFile(bodies.v2Binary, binary.body);
  return bodies;
}

/** (1) onnxruntime-node in process, in its own Node process so this one stays out of the way. */
async function measureInProcess(modelPath) {
  const configurations = [
    { batch: 1, threads: 1, workers: 1, detail: 'batch 1, 1 thread (as a replica)' },
    { batch: 32, threads: 1, workers: 1, detail: 'batch 32, 1 thread (as a replica)' },
    { batch: 1, threads: 2, workers: 1, detail: 'batch 1, 2 threads' },
    { batch: 32, threads: 2, workers: 1, detail: 'batch 32, 2 threads' },
  ];
  // What the server's replicas can compute together (with one replica it is the row above).
  if (settings.replicas > 1) {
    configurations.push({
      batch: 32,
      threads: 1,
      workers: settings.replicas,
      detail: `batch 32, ${settings.replicas} sessions × 1 thread (as the replicas)`,
    });
  }
  for (const configuration of configurations) {
    log(`in process: ${configuration.detail}`);
    const stdout = await runToCompletion(process.execPath, [
      join(benchDirectory, 'in-process-onnxruntime.mjs'),
      JSON.stringify({
        model: modelPath,
        batch: configuration.batch,
        threads: configuration.threads,
        workers: configuration.workers,
        durationMs: settings.durationSeconds * 1000,
        warmupMs: Math.max(500, settings.warmupSeconds * 500),
      }),
    ]);
    const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
    rows.push({
      id: `in-process-b${configuration.batch}-t${configuration.threads}-w${configuration.workers}`,
      kind: 'in-process',
      system: 'onnxruntime-node in process',
      detail: configuration.detail,
      connections: null,
      rowsPerRequest: configuration.batch,
      requestsPerSecond: result.callsPerSecond,
      inferencesPerSecond: result.inferencesPerSecond,
      latencyMs: result.latencyMs,
      failed: 0,
    });
  }
}

/** One wrk configuration against a running server: warm-up, then the measured run. */
async function measureHttp(server, row, load) {
  log(`${row.system}: ${row.detail}, ${load.connections} connections`);
  if (settings.warmupSeconds > 0) {
    await runWrk({ ...load, durationSeconds: settings.warmupSeconds });
  }
  const { result, serverCores, machineBusy } = await withCpuUsage(server.child.pid, () =>
    runWrk({ ...load, durationSeconds: settings.durationSeconds }),
  );
  if (result.failed > 0) log(`  ${result.failed} failed requests: ${JSON.stringify(result.errors)}`);
  return recordRow(row, load.connections, result, { serverCores, machineBusy });
}

/**
 * A measured load row (HTTP or gRPC): requests/s, inferences/s from the row's rows per request, p50 and
 * p99, failures, and what else the run measured; added to the report's rows.
 */
function recordRow(row, connections, result, extra) {
  const measured = {
    ...row,
    connections,
    requestsPerSecond: result.requestsPerSecond,
    inferencesPerSecond: result.requestsPerSecond * row.rowsPerRequest,
    latencyMs: { p50: result.latencyMs.p50, p99: result.latencyMs.p99 },
    failed: result.failed,
    ...Object.fromEntries(Object.entries(extra).filter(([, value]) => value !== undefined)),
  };
  rows.push(measured);
  return measured;
}

/** One gRPC load configuration: warm-up, then the measured run, on the same channels in one child process. */
async function measureGrpc(server, row, load) {
  log(`${row.system}: ${row.detail}, ${load.connections} concurrent calls`);
  const result = await runGrpcLoad({
    ...load,
    durationSeconds: settings.durationSeconds,
    warmupSeconds: settings.warmupSeconds,
    callsPerChannel: grpcCallsPerChannel,
    serverPid: server.child.pid,
  });
  if (result.failed > 0) log(`  ${result.failed} failed calls: ${JSON.stringify(result.codes)}`);
  return recordRow(row, load.connections, result, {
    channels: result.channels,
    loadGeneratorCores: result.clientCores,
    serverCores: result.serverCores,
    machineBusy: result.machineBusy,
  });
}

/** (2) The bare node:http floor. */
async function measureFloor(bodies) {
  const server = await startServer(process.execPath, [join(benchDirectory, 'floor-server.mjs')], {
    name: 'the floor server',
    isReady: jsonUrl,
  });
  try {
    const url = `${server.ready}/v2/models/model/infer`;
    await checkFloorAnswers(url);
    for (const connections of settings.connections) {
      await measureHttp(
        server,
        {
          id: `floor-c${connections}`,
          kind: 'floor',
          system: 'bare node:http (JSON floor)',
          detail: 'parse V2 JSON, no inference',
          rowsPerRequest: 1,
        },
        { url, bodyPath: bodies.v2Json, contentType: 'application/json', connections },
      );
    }
  } finally {
    await stopServer(server.child);
  }
}

/** (3) The seed's Flask app under gunicorn, 2 sync workers, as its README starts it. */
async function measureFlask(seedDirectory, picklePath, bodies, expected) {
  const server = await startServer(
    systemPython,
    ['-m', 'gunicorn', '-w', '2', '-b', '127.0.0.1:0', '--chdir', seedDirectory, 'app:app'],
    {
      name: 'gunicorn (Flask)',
      env: { ...process.env, MODEL_PKL: picklePath },
      isReady: (line) => /Listening at: (http:\/\/[^\s]+)/.exec(line)?.[1],
    },
  );
  try {
    const url = `${server.ready}/predict`;
    // gunicorn listens before its workers have loaded the pickle: wait for a first answer.
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await checkFlaskAnswers(url, bodies.flaskText, expected.one);
        break;
      } catch (error) {
        const exited = server.child.exitCode !== null || server.child.signalCode !== null;
        if (exited || Date.now() > deadline) {
          const reason = error instanceof Error ? error.message : String(error);
          throw new Error(`the Flask app never answered (${reason}); gunicorn's output:\n${server.output()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    for (const connections of settings.connections) {
      await measureHttp(
        server,
        {
          id: `flask-c${connections}`,
          kind: 'flask',
          system: 'seed Flask app',
          detail: 'gunicorn -w 2, scikit-learn',
          rowsPerRequest: 1,
        },
        { url, bodyPath: bodies.flaskJson, contentType: 'application/json', connections },
      );
    }
  } finally {
    await stopServer(server.child);
  }
}

/**
 * (4) `mlscale serve` on the same model.onnx: V2 JSON one row a request, then V2 binary in batches, then
 * the same over gRPC with raw contents (one row, then a batch per call).
 */
async function measureMlscale(onnxPath, bodies, expected) {
  const args = [
    cliBin,
    'serve',
    onnxPath,
    '--port',
    '0',
    '--grpc-port',
    '0',
    '--device',
    'cpu',
    '--replicas',
    String(settings.replicas),
    '--max-batch-size',
    String(settings.maxBatchSize),
    '--max-queue-delay-ms',
    String(settings.maxQueueDelayMs),
  ];
  const server = await startServer(process.execPath, args, {
    name: 'mlscale serve',
    cwd: runDirectory,
    isReady: servingLine,
  });
  try {
    const { url: baseUrl, grpcUrl } = server.ready;
    if (!grpcUrl) throw new Error(`mlscale serve printed no grpcUrl: ${JSON.stringify(server.ready)}`);
    const url = `${baseUrl}/v2/models/model/infer`;
    await checkMlscaleAnswers(url, expected);
    await checkMlscaleGrpcAnswers(grpcUrl, expected);
    const detail = `${settings.replicas} replicas, max batch ${settings.maxBatchSize}, delay ${settings.maxQueueDelayMs} ms`;
    const loads = [
      ...settings.connections.map((connections) => ({
        row: {
          id: `mlscale-json-c${connections}`,
          kind: 'mlscale-json',
          system: 'mlscale serve, V2 JSON',
          rowsPerRequest: 1,
        },
        load: { url, bodyPath: bodies.v2Json, contentType: 'application/json', connections },
      })),
      ...settings.connections.map((connections) => ({
        row: {
          id: `mlscale-binary-c${connections}`,
          kind: 'mlscale-binary',
          system: 'mlscale serve, V2 binary',
          rowsPerRequest: settings.binaryRows,
        },
        load: {
          url,
          bodyPath: bodies.v2Binary,
          contentType: 'application/octet-stream',
          headerLength: bodies.v2BinaryHeaderLength,
          connections,
        },
      })),
      ...[1, settings.binaryRows].flatMap((rowsPerRequest) =>
        settings.connections.map((connections) => ({
          grpc: true,
          row: {
            id: `mlscale-grpc${rowsPerRequest === 1 ? '' : '-batch'}-c${connections}`,
            kind: rowsPerRequest === 1 ? 'mlscale-grpc' : 'mlscale-grpc-batch',
            system: 'mlscale serve, gRPC raw',
            rowsPerRequest,
          },
          load: { target: grpcUrl, model: 'model', rows: rowsPerRequest, connections },
        })),
      ),
    ];
    for (const { grpc, row, load } of loads) {
      const before = await inferenceCounters(baseUrl);
      const measured = grpc
        ? await measureGrpc(server, { ...row, detail }, load)
        : await measureHttp(server, { ...row, detail }, load);
      const after = await inferenceCounters(baseUrl);
      // Rows per onnxruntime call over warm-up and run: how much the dynamic batcher merged.
      const executions = after.executions - before.executions;
      if (executions > 0) measured.averageBatchRows = (after.inferences - before.inferences) / executions;
    }
    // The server must still answer correctly after the load.
    await checkMlscaleAnswers(url, expected);
    await checkMlscaleGrpcAnswers(grpcUrl, expected);
  } finally {
    await stopServer(server.child);
  }
}

/** The `{"url": ..., "grpcUrl"?: ...}` line that `mlscale serve` prints once listening. */
function servingLine(line) {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(line);
    return typeof parsed.url === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The `{"url": ...}` line that `mlscale serve` and the floor server print once listening. */
function jsonUrl(line) {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line).url;
  } catch {
    return undefined;
  }
}
