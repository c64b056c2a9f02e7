import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, stopServer } from '../lib/child-processes.mjs';
import { parseWrkOutput, runWrk } from '../lib/load-generator.mjs';
import { inputRows, v2JsonBody } from '../lib/request-bodies.mjs';

const wrkInstalled = spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status === 0;
const floorServer = fileURLToPath(new URL('../floor-server.mjs', import.meta.url));

describe('parseWrkOutput', () => {
  it('reads the summary line wrk-post.lua prints, in requests/s and milliseconds', () => {
    const result = parseWrkOutput(
      'Running 2s test\nWRK_JSON {"requests":5000,"durationUs":2000000,"bytes":1,' +
        '"errors":{"connect":0,"read":1,"write":0,"status":2,"timeout":0},' +
        '"latencyUs":{"mean":1500.5,"p50":1200,"p90":2000,"p99":4100,"max":9000}}\n',
    );
    expect(result.requestsPerSecond).toBe(2500);
    expect(result.failed).toBe(3);
    expect(result.latencyMs).toEqual({ mean: 1.5005, p50: 1.2, p90: 2, p99: 4.1, max: 9 });
  });

  it('fails loudly when the summary is missing', () => {
    expect(() => parseWrkOutput('unable to connect')).toThrow(/no WRK_JSON summary/);
  });
});

describe.skipIf(!wrkInstalled)('wrk against the floor server on loopback', () => {
  const folder = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  let server: Awaited<ReturnType<typeof startServer>>;
  let url: string;

  beforeAll(async () => {
    server = await startServer(process.execPath, [floorServer], {
      name: 'floor server',
      isReady: (line: string) => (line.startsWith('{') ? JSON.parse(line).url : undefined),
    });
    url = `${server.ready}/v2/models/model/infer`;
    writeFileSync(join(folder, 'good.json'), v2JsonBody(inputRows(1)));
    writeFileSync(join(folder, 'bad.json'), '{"inputs": "nope"}');
  });

  afterAll(async () => {
    if (server) await stopServer(server.child);
    rmSync(folder, { recursive: true, force: true });
  });

  it('the floor server answers a V2 request with a V2 response and a bad one with 400', async () => {
    const good = await fetch(url, { method: 'POST', body: v2JsonBody(inputRows(2)) });
    expect(good.status).toBe(200);
    const answer = await good.json();
    expect(answer.outputs[0]).toMatchObject({ name: 'probabilities', shape: [2, 10] });
    expect(answer.outputs[0].data).toHaveLength(20);
    const bad = await fetch(url, { method: 'POST', body: '{"inputs":[{"shape":[1,784],"data":[1]}]}' });
    expect(bad.status).toBe(400);
    expect((await fetch(url, { method: 'POST', body: 'not json' })).status).toBe(400);
  });

  it('measures answered requests, and counts non-2xx answers as failed', async () => {
    const good = await runWrk({
      url,
      bodyPath: join(folder, 'good.json'),
      contentType: 'application/json',
      connections: 2,
      durationSeconds: 1,
    });
    expect(good.requests).toBeGreaterThan(0);
    expect(good.failed).toBe(0);
    expect(good.latencyMs.p99).toBeGreaterThanOrEqual(good.latencyMs.p50);
    const bad = await runWrk({
      url,
      bodyPath: join(folder, 'bad.json'),
      contentType: 'application/json',
      connections: 2,
      durationSeconds: 1,
    });
    expect(bad.requests).toBeGreaterThan(0);
    expect(bad.errors.status).toBe(bad.requests);
  });
});
