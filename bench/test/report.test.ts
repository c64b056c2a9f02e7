import { describe, expect, it } from 'vitest';
import { computeLimit, evaluateTargets, formatTable, formatTargets, withRatios } from '../lib/report.mjs';

type Row = Parameters<typeof withRatios>[0][number];

function row(overrides: Partial<Row> & Pick<Row, 'id' | 'kind'>): Row {
  return {
    system: overrides.kind,
    detail: '',
    connections: null,
    rowsPerRequest: 1,
    requestsPerSecond: 0,
    inferencesPerSecond: 0,
    latencyMs: { p50: 1, p99: 2 },
    failed: 0,
    ...overrides,
  };
}

const rows: Row[] = [
  row({
    id: 'b1',
    kind: 'in-process',
    rowsPerRequest: 1,
    requestsPerSecond: 9000,
    inferencesPerSecond: 9000,
  }),
  row({
    id: 'b32-t1',
    kind: 'in-process',
    rowsPerRequest: 32,
    requestsPerSecond: 2000,
    inferencesPerSecond: 64000,
  }),
  row({
    id: 'b32-t2',
    kind: 'in-process',
    rowsPerRequest: 32,
    requestsPerSecond: 3125,
    inferencesPerSecond: 100000,
  }),
  row({ id: 'floor-16', kind: 'floor', connections: 16, requestsPerSecond: 8000, inferencesPerSecond: 8000 }),
  row({
    id: 'floor-64',
    kind: 'floor',
    connections: 64,
    requestsPerSecond: 10000,
    inferencesPerSecond: 10000,
  }),
  row({ id: 'flask-16', kind: 'flask', connections: 16, requestsPerSecond: 1000, inferencesPerSecond: 1000 }),
  row({ id: 'flask-64', kind: 'flask', connections: 64, requestsPerSecond: 1000, inferencesPerSecond: 1000 }),
  row({
    id: 'json-16',
    kind: 'mlscale-json',
    connections: 16,
    requestsPerSecond: 6800,
    inferencesPerSecond: 6800,
  }),
  row({
    id: 'json-64',
    kind: 'mlscale-json',
    connections: 64,
    requestsPerSecond: 8000,
    inferencesPerSecond: 8000,
    latencyMs: { p50: 5, p99: 16 },
  }),
  row({
    id: 'binary-16',
    kind: 'mlscale-binary',
    connections: 16,
    rowsPerRequest: 32,
    requestsPerSecond: 2000,
    inferencesPerSecond: 64000,
  }),
  row({
    id: 'binary-64',
    kind: 'mlscale-binary',
    connections: 64,
    rowsPerRequest: 32,
    requestsPerSecond: 2300,
    inferencesPerSecond: 73600,
    failed: 3,
  }),
  row({
    id: 'grpc-16',
    kind: 'mlscale-grpc',
    connections: 16,
    requestsPerSecond: 10200,
    inferencesPerSecond: 10200,
    channels: 1,
  }),
  row({
    id: 'grpc-batch-16',
    kind: 'mlscale-grpc-batch',
    connections: 16,
    rowsPerRequest: 32,
    requestsPerSecond: 2500,
    inferencesPerSecond: 80000,
  }),
  row({
    id: 'grpc-batch-64',
    kind: 'mlscale-grpc-batch',
    connections: 64,
    rowsPerRequest: 32,
    requestsPerSecond: 2250,
    inferencesPerSecond: 72000,
  }),
];

describe('the bench report', () => {
  it('takes the best in-process batch-32 figure as the compute limit', () => {
    expect(computeLimit(rows)).toBe(100000);
    expect(computeLimit(rows.filter((entry) => entry.kind !== 'in-process'))).toBeUndefined();
  });

  it('gives ratios to the compute limit and to the floor at the same connection count', () => {
    const measured = withRatios(rows);
    const byId = new Map(measured.map((entry) => [entry.id, entry]));
    expect(byId.get('json-16')?.ratioToFloor).toBeCloseTo(0.85, 6);
    expect(byId.get('json-64')?.ratioToFloor).toBeCloseTo(0.8, 6);
    expect(byId.get('flask-64')?.ratioToFloor).toBeCloseTo(0.1, 6);
    expect(byId.get('binary-16')?.ratioToFloor).toBeNull();
    expect(byId.get('b1')?.ratioToFloor).toBeNull();
    expect(byId.get('binary-16')?.ratioToCompute).toBeCloseTo(0.64, 6);
    expect(byId.get('b32-t2')?.ratioToCompute).toBe(1);
  });

  it('gives gRPC rows a ratio to the HTTP row of the same connections and rows per request, not to the floor', () => {
    const byId = new Map(withRatios(rows).map((entry) => [entry.id, entry]));
    expect(byId.get('grpc-16')?.ratioToHttp).toBeCloseTo(1.5, 6);
    expect(byId.get('grpc-16')?.ratioToFloor).toBeNull();
    expect(byId.get('grpc-batch-16')?.ratioToHttp).toBeCloseTo(1.25, 6);
    expect(byId.get('grpc-batch-64')?.ratioToHttp).toBeCloseTo(2250 / 2300, 6);
    expect(byId.get('grpc-batch-16')?.ratioToCompute).toBeCloseTo(0.8, 6);
    expect(byId.get('json-16')?.ratioToHttp).toBeNull();
    expect(byId.get('b32-t1')?.ratioToHttp).toBeNull();
  });

  it('judges each target on its figures, leaving out runs with failed requests', () => {
    const results = new Map(evaluateTargets(rows).map((result) => [result.id, result]));
    // Issue 14's bar: 1.0 × the floor (0.85 and 0.80 measured).
    expect(results.get('json-vs-floor-c16')).toMatchObject({ met: false });
    expect(results.get('json-vs-floor-c16')?.measured).toBeCloseTo(0.85, 6);
    expect(results.get('json-vs-floor-c64')).toMatchObject({ met: false });
    expect(results.get('json-vs-flask-c16')?.measured).toBeCloseTo(6.8, 6);
    expect(results.get('json-vs-flask-c64')).toMatchObject({ met: true });
    // binary-64 had failures, so only binary-16 (0.64) counts: missed.
    expect(results.get('binary-vs-compute')?.measured).toBeCloseTo(0.64, 6);
    expect(results.get('binary-vs-compute')?.met).toBe(false);
    expect(results.get('p99-over-p50-c64')).toMatchObject({ measured: 3.2, met: false });
    // The best gRPC batch row, 80,000 of 100,000: met.
    expect(results.get('grpc-batch-vs-compute')?.measured).toBeCloseTo(0.8, 6);
    expect(results.get('grpc-batch-vs-compute')?.met).toBe(true);
  });

  it('meets the JSON floor target at 1.0 × the floor and judges gRPC batches without their failed runs', () => {
    const atFloor = rows.map((entry) =>
      entry.id === 'json-16' ? { ...entry, requestsPerSecond: 8000 } : entry,
    );
    const results = new Map(evaluateTargets(atFloor).map((result) => [result.id, result]));
    expect(results.get('json-vs-floor-c16')).toMatchObject({ measured: 1, met: true });
    const failing = rows.map((entry) => (entry.id === 'grpc-batch-16' ? { ...entry, failed: 1 } : entry));
    const grpc = evaluateTargets(failing).find((result) => result.id === 'grpc-batch-vs-compute');
    expect(grpc?.measured).toBeCloseTo(0.72, 6);
    expect(grpc?.met).toBe(true);
    const none = evaluateTargets(rows.filter((entry) => entry.kind !== 'mlscale-grpc-batch'));
    expect(none.find((result) => result.id === 'grpc-batch-vs-compute')).toMatchObject({ met: null });
  });

  it('says a target was not measured when a group was skipped', () => {
    const results = evaluateTargets(rows.filter((entry) => entry.kind !== 'flask'));
    expect(results.find((result) => result.id === 'json-vs-flask-c16')).toMatchObject({ met: null });
    expect(formatTargets(results)).toContain('NOT MEASURED: mlscale serve JSON requests/s ≥ 5 × Flask');
  });

  it('prints one Markdown line per row with the group number and ratios', () => {
    const table = formatTable(withRatios(rows)).split('\n');
    expect(table).toHaveLength(2 + rows.length);
    expect(table.find((line) => line.includes('mlscale-json') && line.includes('| 64 |'))).toMatch(
      /^\| 4 \| mlscale-json \|.*\| 8,000 \| 8,000 \| 5\.00 \| 16\.0 \| 0\.08 \| 0\.80 \| — \| 0 \| — \| — \|$/,
    );
    expect(table.find((line) => line.includes('mlscale-grpc-batch') && line.includes('| 16 |'))).toMatch(
      /^\| 4 \| mlscale-grpc-batch \|.*\| 32 \| 2,500 \| 80,000 \| 1\.00 \| 2\.00 \| 0\.80 \| — \| 1\.25 \| 0 \| — \| — \|$/,
    );
    expect(table[0]).toContain('| ×(1) | ×(2) | ×(4) | failed |');
  });
});
