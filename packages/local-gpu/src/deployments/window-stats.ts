/** What a version did since the last `take()`. */
export interface WindowSnapshot {
  /** Seconds the window covered. */
  seconds: number;
  requests: number;
  /** Server-side failures among them. */
  errors: number;
  /** 95th percentile latency, ms (0 with no requests). */
  latencyP95Ms: number;
  /** Average concurrent requests (queued or running) over the window. */
  averageConcurrency: number;
  /** Concurrent requests right now. */
  concurrency: number;
}

/**
 * Live request statistics for the autoscaler and the rollout judge: counts, a latency sample and
 * time-weighted concurrency, reset by each `take()`. Cheap enough for every request.
 */
export interface WindowStats {
  requestStarted(): void;
  requestFinished(seconds: number, failed: boolean): void;
  /**
   * A request that finished without a server-side failure turned out to be one: the candidate of a
   * rollout refused it (4xx) and the stable version answered it.
   */
  requestRegressed(): void;
  take(): WindowSnapshot;
  /** Totals since creation. */
  readonly totalRequests: number;
  readonly totalErrors: number;
}

const maxLatencySamples = 4096;

export function createWindowStats(now: () => number = () => performance.now()): WindowStats {
  let windowStart = now();
  let concurrency = 0;
  let concurrencyArea = 0;
  let lastChange = windowStart;
  let requests = 0;
  let errors = 0;
  let totalRequests = 0;
  let totalErrors = 0;
  let latencies: number[] = [];

  const account = () => {
    const time = now();
    concurrencyArea += concurrency * (time - lastChange);
    lastChange = time;
  };

  return {
    requestStarted() {
      account();
      concurrency++;
    },
    requestFinished(seconds, failed) {
      account();
      concurrency--;
      requests++;
      totalRequests++;
      if (failed) {
        errors++;
        totalErrors++;
      }
      if (latencies.length < maxLatencySamples) latencies.push(seconds * 1000);
      else latencies[Math.floor(Math.random() * maxLatencySamples)] = seconds * 1000;
    },
    requestRegressed() {
      errors++;
      totalErrors++;
    },
    take() {
      account();
      const time = now();
      const elapsed = Math.max(time - windowStart, 1e-6);
      latencies.sort((left, right) => left - right);
      const snapshot: WindowSnapshot = {
        seconds: elapsed / 1000,
        requests,
        errors,
        latencyP95Ms: latencies.length
          ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.95))]!
          : 0,
        averageConcurrency: concurrencyArea / elapsed,
        concurrency,
      };
      windowStart = time;
      concurrencyArea = 0;
      requests = 0;
      errors = 0;
      latencies = [];
      return snapshot;
    },
    get totalRequests() {
      return totalRequests;
    },
    get totalErrors() {
      return totalErrors;
    },
  };
}
