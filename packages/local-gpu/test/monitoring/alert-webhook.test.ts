import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AlertEvent,
  type AlertWebhookPayload,
  createLocalMonitoring,
} from '../../src/monitoring/index.js';
import { createFakeClock } from './fake-clock.js';

/** A real webhook receiver on loopback that answers 503 to the first `failures` POSTs of each alert event. */
let server: Server;
let baseUrl = '';
const received: { attempt: number; payload: AlertWebhookPayload; headers: IncomingMessage['headers'] }[] = [];
const attempts = new Map<string, number>();
let failuresPerEvent = 2;

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AlertWebhookPayload;
      const key = `${payload.alert}/${payload.type}/${payload.time}`;
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      if (attempt <= failuresPerEvent) {
        response.writeHead(503, { 'retry-after': '0' }).end('busy');
        return;
      }
      received.push({ attempt, payload, headers: request.headers });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('alerts with hysteresis and a webhook', () => {
  it('fires on sustained 5xx, resolves after recovery, and the webhook gets both despite failing first', async () => {
    failuresPerEvent = 2;
    const clock = createFakeClock();
    const events: AlertEvent[] = [];
    const fired: string[] = [];
    const errors: string[] = [];
    const monitoring = createLocalMonitoring({
      clock,
      sampleIntervalMs: false,
      readProcessStats: () => ({ cpuUtilization: 1, memoryUtilization: 1 }),
      webhook: { retry: { baseDelayMs: 10, maxDelayMs: 50 } },
      onError: (message) => errors.push(message),
    });
    try {
      const monitor = monitoring.deployment('demo');
      monitoring.onAlert((event) => events.push(event));
      monitoring.onFire((rule) => fired.push(rule.name));
      const status = await monitoring.doPutAlert(
        {
          name: 'errors-high',
          target: { deployment: 'demo' },
          metric: 'errors5xx',
          stat: 'sum',
          comparator: '>',
          threshold: 3,
          forSeconds: 5,
          periodSeconds: 5,
          webhookUrl: `${baseUrl}/hooks/alerts?token=very-secret-token`,
        },
        {},
      );
      expect(status.state).toBe('ok');
      const states: string[] = [];
      // 10 s healthy, 20 s with 2 errors a second (sum over 5 s: 10 > 3), 20 s healthy again.
      for (let second = 0; second < 50; second++) {
        const failing = second >= 10 && second < 30;
        for (let index = 0; index < 4; index++) {
          monitor.recordRequest({
            route: 'POST /invocations',
            status: failing && index < 2 ? 500 : 200,
            latencyMs: 3,
          });
        }
        const before = Date.now();
        await monitoring.tick();
        // The webhook's retries run in the background: a tick never waits for them.
        expect(Date.now() - before).toBeLessThan(5000);
        states.push((await monitoring.doListAlerts({}))[0]!.state);
        clock.advance(1000);
      }
      // Second 10 has 2 errors (not > 3); from second 11 the 5 s sum is over 3: pending, firing 5 s later.
      expect(states.slice(0, 11).every((state) => state === 'ok')).toBe(true);
      expect(states[11]).toBe('pending');
      expect(states.indexOf('firing')).toBe(16);
      // Errors stop after second 29; the 5 s sum drops to 2 at second 33, and 5 s of that resolves it.
      expect(states.lastIndexOf('firing')).toBe(37);
      expect(states[38]).toBe('ok');
      expect(events.map((event) => event.type)).toEqual(['firing', 'resolved']);
      expect(fired).toEqual(['errors-high']);

      await monitoring.webhooksIdle();
      expect(received.map((entry) => entry.payload.type)).toEqual(['alert.firing', 'alert.resolved']);
      expect(received.every((entry) => entry.attempt === 3)).toBe(true);
      const firing = received[0]!.payload;
      expect(firing).toMatchObject({
        alert: 'errors-high',
        target: { deployment: 'demo' },
        metric: 'errors5xx',
        stat: 'sum',
        comparator: '>',
        threshold: 3,
        forSeconds: 5,
        value: 10,
      });
      expect(received[0]!.headers['content-type']).toBe('application/json');
      expect(JSON.stringify(firing)).not.toContain('very-secret-token');
      expect(errors).toEqual([]);

      // The alert shows up in the deployment's server log too.
      const lines: string[] = [];
      for await (const entry of monitoring.doLogs(
        { deployment: 'demo' },
        { follow: false, filter: 'Alert' },
        {},
      )) {
        lines.push(entry.message);
      }
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/Alert "errors-high" firing: sum\(errors5xx\) = 10/);
    } finally {
      await monitoring.close();
    }
  });

  it('gives up after the retry budget and reports it without the secret in the URL', async () => {
    failuresPerEvent = 100;
    const clock = createFakeClock();
    const errors: string[] = [];
    const monitoring = createLocalMonitoring({
      clock,
      sampleIntervalMs: false,
      readProcessStats: () => ({ cpuUtilization: 1, memoryUtilization: 1 }),
      webhook: { retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 } },
      onError: (message) => errors.push(message),
    });
    try {
      monitoring.deployment('demo').recordRequest({ route: 'POST /invocations', status: 200, latencyMs: 1 });
      await monitoring.doPutAlert(
        {
          name: 'any-traffic',
          target: { deployment: 'demo' },
          metric: 'invocations',
          stat: 'sum',
          comparator: '>=',
          threshold: 1,
          forSeconds: 0,
          periodSeconds: 60,
          webhookUrl: `${baseUrl}/hook?sig=abcdef123456&x=1`,
        },
        {},
      );
      await monitoring.tick();
      await monitoring.webhooksIdle();
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/gave up on alert.firing for "any-traffic".*HTTP 503/);
      expect(errors[0]).not.toContain('abcdef123456');
    } finally {
      await monitoring.close();
    }
  });
});
