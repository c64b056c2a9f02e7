import { Agent, request } from 'node:http';

/** One phase of a load ramp: this many concurrent clients for this long. */
export interface LoadPhase {
  name: string;
  durationMs: number;
  concurrency: number;
}

/** One request's outcome. */
export interface RequestSample {
  /** ms since the ramp started, when the request was sent. */
  startedAtMs: number;
  latencyMs: number;
  /** HTTP status, or 0 for a connection error. */
  status: number;
  phase: string;
}

export interface LoadRampOptions {
  /** Where to POST (a loopback URL: the load generator refuses anything else). */
  url: string;
  body: string | Buffer;
  contentType?: string;
  phases: LoadPhase[];
  /** A hard cap on requests, whatever the phases say. Default 200,000. */
  maxRequests?: number;
  signal?: AbortSignal;
  /** Called every `tickMs` with the samples so far (for live progress). */
  onTick?: (elapsedMs: number, phase: LoadPhase) => void;
  tickMs?: number;
}

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * Drives a closed-loop load ramp: in each phase `concurrency` clients each send a request, wait for the
 * answer, and send the next, until the phase ends. Bounded in time and count, loopback only.
 */
export async function runLoadRamp(options: LoadRampOptions): Promise<RequestSample[]> {
  const target = new URL(options.url);
  if (!loopbackHosts.has(target.hostname)) {
    throw new Error(`The demo's load generator only targets loopback addresses, not ${target.hostname}.`);
  }
  const maxRequests = options.maxRequests ?? 200_000;
  const agent = new Agent({
    keepAlive: true,
    maxSockets: Math.max(...options.phases.map((phase) => phase.concurrency)),
  });
  const body = typeof options.body === 'string' ? Buffer.from(options.body) : options.body;
  const headers = {
    'content-type': options.contentType ?? 'application/json',
    'content-length': String(body.length),
  };
  const samples: RequestSample[] = [];
  const started = performance.now();
  let sent = 0;

  const send = (phase: string) =>
    new Promise<void>((resolve) => {
      const sentAt = performance.now();
      sent++;
      const finish = (status: number) => {
        samples.push({ startedAtMs: sentAt - started, latencyMs: performance.now() - sentAt, status, phase });
        resolve();
      };
      const outgoing = request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname + target.search,
          method: 'POST',
          agent,
          headers,
        },
        (response) => {
          response.resume();
          response.on('end', () => finish(response.statusCode ?? 0));
          response.on('error', () => finish(0));
        },
      );
      outgoing.on('error', () => finish(0));
      outgoing.end(body);
    });

  try {
    for (const phase of options.phases) {
      const phaseEnd = performance.now() + phase.durationMs;
      const ticker = options.onTick
        ? setInterval(() => options.onTick?.(performance.now() - started, phase), options.tickMs ?? 250)
        : undefined;
      const client = async () => {
        while (performance.now() < phaseEnd && sent < maxRequests && !options.signal?.aborted)
          await send(phase.name);
      };
      await Promise.all(Array.from({ length: phase.concurrency }, client));
      if (ticker) clearInterval(ticker);
      if (sent >= maxRequests || options.signal?.aborted) break;
    }
  } finally {
    agent.destroy();
  }
  return samples;
}

/** The p-th percentile (0–100) of `values`, nearest rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
