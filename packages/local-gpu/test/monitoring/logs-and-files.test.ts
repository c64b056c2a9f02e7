import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogEntry } from '@mlscale/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalMonitoring } from '../../src/monitoring/index.js';
import { createJsonLinesFile } from '../../src/monitoring/json-lines-file.js';
import { createFakeClock, seededRandom } from './fake-clock.js';

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlscale-monitoring-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function collect(iterable: AsyncIterable<LogEntry>): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  for await (const entry of iterable) entries.push(entry);
  return entries;
}

describe('request and server logs', () => {
  it('reads request and server logs in time order with since, filter and limit, without bodies', async () => {
    const clock = createFakeClock();
    const start = clock.now();
    const monitoring = createLocalMonitoring({ clock, sampleIntervalMs: false, logCapacity: 50 });
    try {
      const monitor = monitoring.deployment('demo');
      monitor.log.info('Replica 0 ready', { replica: 0, apiKey: 'sk-live-should-not-appear' });
      for (let index = 0; index < 10; index++) {
        clock.advance(100);
        monitor.recordRequest({
          route: 'POST /v2/models/demo/infer',
          status: index === 7 ? 503 : 200,
          latencyMs: 2.5 + index,
          batchSize: 4,
          replica: index % 2,
          modelVersion: '3',
        });
      }
      clock.advance(100);
      monitor.log.warn('Queue full, answering 503 Bearer abc.def.ghi');
      const all = await collect(monitoring.doLogs({ deployment: 'demo' }, { follow: false }, {}));
      expect(all).toHaveLength(12);
      expect(all[0]!.source).toBe('server');
      expect(all[0]!.fields).toMatchObject({ level: 'info', replica: 0, apiKey: '[redacted]' });
      expect(all[11]!.message).toBe('Queue full, answering 503 Bearer [redacted]');
      const request = all[1]!;
      expect(request).toMatchObject({
        source: 'request',
        message: 'POST /v2/models/demo/infer 200 2.50 ms',
        fields: {
          route: 'POST /v2/models/demo/infer',
          status: 200,
          latencyMs: 2.5,
          batchSize: 4,
          replica: 0,
          modelVersion: '3',
        },
      });
      expect(Object.keys(request.fields!)).not.toContain('body');
      const errors = await collect(
        monitoring.doLogs({ deployment: 'demo' }, { follow: false, filter: ' 503 ' }, {}),
      );
      expect(errors.map((entry) => entry.source)).toEqual(['request', 'server']);
      const since = await collect(
        monitoring.doLogs(
          { deployment: 'demo' },
          { follow: false, since: new Date(start + 500), limit: 2 },
          {},
        ),
      );
      expect(since.map((entry) => entry.time.getTime())).toEqual([start + 500, start + 600]);
      const newest = await collect(
        monitoring.doLogs({ deployment: 'demo' }, { follow: false, limit: 2 }, {}),
      );
      expect(newest.map((entry) => entry.source)).toEqual(['request', 'server']);
      // The rings are bounded: 200 more requests leave the newest 50.
      for (let index = 0; index < 200; index++)
        monitor.recordRequest({ route: 'GET /ping', status: 200, latencyMs: 0.1 });
      const requests = await collect(
        monitoring.doLogs({ deployment: 'demo' }, { follow: false, filter: 'GET /ping' }, {}),
      );
      expect(requests).toHaveLength(50);
    } finally {
      await monitoring.close();
    }
  });

  it('follows new entries until the signal aborts', async () => {
    const monitoring = createLocalMonitoring({ sampleIntervalMs: false });
    try {
      const monitor = monitoring.deployment('demo');
      monitor.recordRequest({ route: 'GET /ping', status: 200, latencyMs: 1 });
      const controller = new AbortController();
      const seen: string[] = [];
      const reading = (async () => {
        for await (const entry of monitoring.doLogs(
          { deployment: 'demo' },
          { follow: true, filter: 'infer' },
          { signal: controller.signal },
        )) {
          seen.push(entry.message);
          if (seen.length === 3) controller.abort();
        }
      })();
      for (let index = 0; index < 3; index++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        monitor.recordRequest({ route: 'POST /infer', status: 200, latencyMs: index });
        monitor.recordRequest({ route: 'GET /ping', status: 200, latencyMs: 1 });
      }
      await reading;
      expect(seen).toEqual(['POST /infer 200 0.00 ms', 'POST /infer 200 1.00 ms', 'POST /infer 200 2.00 ms']);
      // An abort with nothing arriving ends the iterator too.
      const idle = new AbortController();
      const pending = collect(
        monitoring.doLogs(
          { deployment: 'demo' },
          { follow: true, filter: 'nothing' },
          { signal: idle.signal },
        ),
      );
      setTimeout(() => idle.abort(), 20);
      expect(await pending).toEqual([]);
    } finally {
      await monitoring.close();
    }
  });
});

describe('files under root', () => {
  it('writes JSON lines request logs and captured samples within the size limits', async () => {
    const directory = join(root, 'capture-run');
    const clock = createFakeClock();
    const monitoring = createLocalMonitoring({
      root: directory,
      clock,
      sampleIntervalMs: false,
      random: seededRandom(11),
    });
    const monitor = monitoring.deployment('demo', {
      dataCapture: { samplingPercentage: 25, maxRecordBytes: 300 },
    });
    expect(monitoring.deployment('without-capture').shouldCapture()).toBe(false);
    // The same seeded draws tell how many of 400 requests a 25% sample takes.
    const draws = seededRandom(11);
    const expectedCaptures = Array.from({ length: 400 }, () => draws() * 100 < 25).filter(Boolean).length;
    let captured = 0;
    for (let index = 0; index < 400; index++) {
      const width = index % 2 ? 60 : 2;
      const request = {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, width], data: new Array(width).fill(0.5) }],
      };
      monitor.recordRequest({ route: 'POST /v2/models/demo/infer', status: 200, latencyMs: 1, batchSize: 1 });
      if (monitor.shouldCapture()) {
        monitor.capture({
          timeMs: clock.now(),
          route: 'POST /v2/models/demo/infer',
          status: 200,
          request,
          response: { outputs: [1] },
        });
        captured += 1;
      }
    }
    clock.advance(3000);
    await monitoring.close();
    expect(captured).toBe(expectedCaptures);
    expect(captured).toBeGreaterThan(60);
    expect(captured).toBeLessThan(140);
    expect(monitor.captureStats?.captured).toBe(captured);
    const captureLines = (await readFile(join(directory, 'capture', 'demo.jsonl'), 'utf8'))
      .trim()
      .split('\n');
    expect(captureLines).toHaveLength(captured);
    const records = captureLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.some((record) => record.truncated === true)).toBe(true);
    expect(records.some((record) => record.request !== undefined && record.truncated === undefined)).toBe(
      true,
    );
    for (const line of captureLines) {
      const record = JSON.parse(line) as { truncated?: boolean };
      if (!record.truncated) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(300);
    }
    const requestLines = (await readFile(join(directory, 'logs', 'demo', 'requests.jsonl'), 'utf8'))
      .trim()
      .split('\n');
    expect(requestLines).toHaveLength(400);
    const first = JSON.parse(requestLines[0]!) as Record<string, unknown>;
    expect(Object.keys(first).sort()).toEqual([
      'batchSize',
      'latencyMs',
      'message',
      'route',
      'source',
      'status',
      'time',
    ]);
  });

  it('persists metrics under <root>/metrics and reloads them after a restart', async () => {
    const directory = join(root, 'persist-run');
    const clock = createFakeClock();
    const start = clock.now();
    const settings = {
      root: directory,
      clock,
      sampleIntervalMs: false as const,
      readProcessStats: () => ({ cpuUtilization: 5, memoryUtilization: 6 }),
    };
    const first = createLocalMonitoring(settings);
    const monitor = first.deployment('demo', { gauges: { replicas: () => 2 } });
    for (let second = 0; second < 20; second++) {
      for (let index = 0; index <= second % 3; index++) {
        monitor.recordRequest({
          route: 'POST /invocations',
          status: index === 2 ? 500 : 200,
          latencyMs: 1 + second,
        });
      }
      await first.tick();
      clock.advance(1000);
    }
    const query = {
      target: { deployment: 'demo' },
      names: ['invocations', 'errors5xx', 'latencyP90', 'replicas'],
      from: new Date(start),
      to: new Date(start + 20_000),
      periodSeconds: 10,
      stat: 'sum' as const,
    };
    const before = await first.doMetrics(query, {});
    await first.close();
    const text = await readFile(join(directory, 'metrics', 'deployment-demo.jsonl'), 'utf8');
    expect(text.trim().split('\n').length).toBeGreaterThanOrEqual(20);
    const second = createLocalMonitoring(settings);
    try {
      // Logs come back too once the deployment is monitored again.
      const restarted = second.deployment('demo');
      restarted.log.info('Restarted');
      const logs = await collect(second.doLogs({ deployment: 'demo' }, { follow: false }, {}));
      expect(logs).toHaveLength(39 + 1);
      expect(logs[0]).toMatchObject({
        source: 'request',
        fields: { route: 'POST /invocations', status: 200, latencyMs: 1 },
      });
      expect(logs.at(-1)?.message).toBe('Restarted');
      const after = await second.doMetrics(query, {});
      expect(after.series).toEqual(before.series);
      // Seconds 0–9 get 1,2,3,1,2,3,1,2,3,1 requests; seconds 10–19 get 2,3,1,2,3,1,2,3,1,2.
      expect(before.series[0]!.values).toEqual([19, 20]);
      const latency = await second.doMetrics({ ...query, names: ['latencyP90'], stat: 'average' }, {});
      expect(latency.series[0]!.values[1]).toBeGreaterThan(15);
    } finally {
      await second.close();
    }
  });

  it('rotates JSON lines files so disk use stays under twice the limit', async () => {
    const path = join(root, 'rotation', 'lines.jsonl');
    const errors: unknown[] = [];
    const file = createJsonLinesFile(path, { maxBytes: 2048, onError: (error) => errors.push(error) });
    for (let batch = 0; batch < 20; batch++) {
      for (let line = 0; line < 10; line++)
        file.write(JSON.stringify({ batch, line, padding: 'x'.repeat(40) }));
      await file.flush();
    }
    expect(errors).toEqual([]);
    const current = await stat(path);
    const previous = await stat(`${path}.1`);
    expect(current.size).toBeLessThanOrEqual(2048);
    expect(previous.size).toBeLessThanOrEqual(2048);
    const last = (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text) as { batch: number });
    expect(last.at(-1)?.batch).toBe(19);
  });
});
