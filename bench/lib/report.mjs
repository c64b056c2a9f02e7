/**
 * @typedef {object} BenchRow One measured configuration.
 * @property {string} id Stable key, e.g. `mlscale-json-c16`.
 * @property {'in-process' | 'floor' | 'flask' | 'mlscale-json' | 'mlscale-binary' | 'mlscale-grpc'
 *   | 'mlscale-grpc-batch'} kind `mlscale-grpc`: ModelInfer over gRPC, raw contents, 1 row per call;
 *   `mlscale-grpc-batch`: the same with the binary rows' batch per call.
 * @property {string} system What ran, e.g. `mlscale serve (V2 JSON)`.
 * @property {string} detail Batch, threads, replicas.
 * @property {number | null} connections wrk connections (gRPC: concurrent calls); null in process.
 * @property {number} rowsPerRequest Inferences in one request (or one session.run).
 * @property {number} requestsPerSecond HTTP requests/s, or session.run calls/s in process.
 * @property {number} inferencesPerSecond Rows inferred per second.
 * @property {{ p50: number, p99: number }} latencyMs Per request (or per run call).
 * @property {number} failed Non-2xx answers, socket errors and timeouts (gRPC: calls not answered OK).
 * @property {number} [channels] gRPC channels (HTTP/2 connections) the calls were spread over.
 * @property {number} [loadGeneratorCores] CPU cores the gRPC load generator itself used on average.
 * @property {number} [serverCores] CPU cores the server used on average (process and its children).
 * @property {number} [machineBusy] Fraction of the machine's CPU busy during the run (all processes).
 * @property {number} [averageBatchRows] Server-side rows per onnxruntime call (mlscale only).
 * @property {number | null} [ratioToCompute] inferences/s ÷ the compute limit (1).
 * @property {number | null} [ratioToFloor] requests/s ÷ the floor at the same connections (2).
 * @property {number | null} [ratioToHttp] gRPC rows: requests/s ÷ mlscale serve over HTTP at the same
 *   connections and rows per request (V2 JSON for 1 row, V2 binary for a batch) (4).
 */

/**
 * The targets, for a 2-core machine: issue 3's, with issue 14's JSON bar (1.0 × the floor; issue 3 asked
 * 0.85) and its gRPC batch bar (the binary one, for gRPC raw contents).
 */
export const targets = {
  jsonVersusFloor: 1,
  jsonVersusFlask: 5,
  binaryVersusCompute: 0.7,
  grpcBatchVersusCompute: 0.7,
  p99OverP50At64: 3,
};

/** For each gRPC kind, the HTTP kind its ×(4) is taken against. */
const httpCounterpart = { 'mlscale-grpc': 'mlscale-json', 'mlscale-grpc-batch': 'mlscale-binary' };

/**
 * The compute limit (1): the best in-process inferences/s at batch 32, over every thread setting.
 *
 * @param {BenchRow[]} rows
 */
export function computeLimit(rows) {
  const batch32 = rows.filter((row) => row.kind === 'in-process' && row.rowsPerRequest === 32);
  return batch32.length === 0 ? undefined : Math.max(...batch32.map((row) => row.inferencesPerSecond));
}

/**
 * Adds `ratioToCompute` (1), for JSON-over-HTTP rows `ratioToFloor` (2), and for gRPC rows
 * `ratioToHttp` (4) to every row.
 *
 * @param {BenchRow[]} rows
 * @returns {BenchRow[]}
 */
export function withRatios(rows) {
  const limit = computeLimit(rows);
  return rows.map((row) => {
    const floor = rows.find(
      (candidate) => candidate.kind === 'floor' && candidate.connections === row.connections,
    );
    const jsonOverHttp = row.kind === 'floor' || row.kind === 'flask' || row.kind === 'mlscale-json';
    const http = rows.find(
      (candidate) =>
        candidate.kind === httpCounterpart[row.kind] &&
        candidate.connections === row.connections &&
        candidate.rowsPerRequest === row.rowsPerRequest,
    );
    return {
      ...row,
      ratioToCompute: limit ? row.inferencesPerSecond / limit : null,
      ratioToFloor: jsonOverHttp && floor ? row.requestsPerSecond / floor.requestsPerSecond : null,
      ratioToHttp: http ? row.requestsPerSecond / http.requestsPerSecond : null,
    };
  });
}

/**
 * Each target, with the figures it was judged on; `met` is null where a figure is missing.
 *
 * @param {BenchRow[]} rows
 */
export function evaluateTargets(rows) {
  const find = (kind, connections) =>
    rows.find((row) => row.kind === kind && row.connections === connections && row.failed === 0);
  const results = [];
  for (const connections of [16, 64]) {
    const served = find('mlscale-json', connections);
    const floor = find('floor', connections);
    const flask = find('flask', connections);
    const versusFloor = served && floor ? served.requestsPerSecond / floor.requestsPerSecond : undefined;
    results.push({
      id: `json-vs-floor-c${connections}`,
      target: `mlscale serve JSON requests/s ≥ ${targets.jsonVersusFloor} × bare floor at ${connections} connections`,
      measured: versusFloor,
      met: versusFloor === undefined ? null : versusFloor >= targets.jsonVersusFloor,
    });
    const versusFlask = served && flask ? served.requestsPerSecond / flask.requestsPerSecond : undefined;
    results.push({
      id: `json-vs-flask-c${connections}`,
      target: `mlscale serve JSON requests/s ≥ ${targets.jsonVersusFlask} × Flask at ${connections} connections`,
      measured: versusFlask,
      met: versusFlask === undefined ? null : versusFlask >= targets.jsonVersusFlask,
    });
  }
  const limit = computeLimit(rows);
  // The best batched row of a kind (runs with failed requests left out) ÷ the compute limit.
  const bestVersusCompute = (kind) => {
    const batched = rows.filter((row) => row.kind === kind && row.failed === 0);
    const best =
      batched.length === 0 ? undefined : Math.max(...batched.map((row) => row.inferencesPerSecond));
    return best !== undefined && limit ? best / limit : undefined;
  };
  const versusCompute = bestVersusCompute('mlscale-binary');
  results.push({
    id: 'binary-vs-compute',
    target: `mlscale serve binary batched inferences/s ≥ ${targets.binaryVersusCompute} × in-process batch 32`,
    measured: versusCompute,
    met: versusCompute === undefined ? null : versusCompute >= targets.binaryVersusCompute,
  });
  const grpcVersusCompute = bestVersusCompute('mlscale-grpc-batch');
  results.push({
    id: 'grpc-batch-vs-compute',
    target: `mlscale serve gRPC raw batched inferences/s ≥ ${targets.grpcBatchVersusCompute} × in-process batch 32`,
    measured: grpcVersusCompute,
    met: grpcVersusCompute === undefined ? null : grpcVersusCompute >= targets.grpcBatchVersusCompute,
  });
  const at64 = find('mlscale-json', 64);
  const spread = at64 ? at64.latencyMs.p99 / at64.latencyMs.p50 : undefined;
  results.push({
    id: 'p99-over-p50-c64',
    target: `mlscale serve JSON p99 ≤ ${targets.p99OverP50At64} × p50 at 64 connections`,
    measured: spread,
    met: spread === undefined ? null : spread <= targets.p99OverP50At64,
  });
  return results;
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function milliseconds(value) {
  return value < 10 ? value.toFixed(2) : value.toFixed(1);
}

function ratio(value) {
  return value === null || value === undefined ? '—' : value.toFixed(2);
}

/**
 * The table as Markdown (it reads well in a terminal and pastes into bench/README.md).
 *
 * @param {BenchRow[]} rows rows with ratios
 */
export function formatTable(rows) {
  const header = [
    '| # | system | detail | conns | rows/req | requests/s | inferences/s | p50 ms | p99 ms | ×(1) | ×(2) | ×(4) | failed | server cores | rows/exec |',
    '| - | ------ | ------ | ----: | -------: | ---------: | -----------: | -----: | -----: | ---: | ---: | ---: | -----: | -----------: | --------: |',
  ];
  const group = {
    'in-process': '1',
    floor: '2',
    flask: '3',
    'mlscale-json': '4',
    'mlscale-binary': '4',
    'mlscale-grpc': '4',
    'mlscale-grpc-batch': '4',
  };
  const lines = rows.map((row) =>
    [
      '',
      group[row.kind],
      row.system,
      row.detail,
      row.connections ?? '—',
      row.rowsPerRequest,
      integer.format(row.requestsPerSecond),
      integer.format(row.inferencesPerSecond),
      milliseconds(row.latencyMs.p50),
      milliseconds(row.latencyMs.p99),
      ratio(row.ratioToCompute),
      ratio(row.ratioToFloor),
      ratio(row.ratioToHttp),
      row.failed,
      row.serverCores === undefined ? '—' : row.serverCores.toFixed(2),
      row.averageBatchRows === undefined ? '—' : row.averageBatchRows.toFixed(1),
      '',
    ]
      .join(' | ')
      .trim(),
  );
  return [...header, ...lines].join('\n');
}

/**
 * The targets as Markdown lines: met, missed, or not measured.
 *
 * @param {ReturnType<typeof evaluateTargets>} results
 */
export function formatTargets(results) {
  return results
    .map((result) => {
      const verdict = result.met === null ? 'NOT MEASURED' : result.met ? 'met' : 'MISSED';
      const figure = result.measured === undefined ? '' : ` (measured ${result.measured.toFixed(2)})`;
      return `- ${verdict}: ${result.target}${figure}`;
    })
    .join('\n');
}
