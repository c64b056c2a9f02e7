import type { TimelinePoint } from './demo-report.js';
import { percentile, type RequestSample } from './load-generator.js';

/** A replica count seen at a moment (ms since the load started). */
export interface ReplicaObservation {
  atMs: number;
  replicas: number;
}

/** Buckets request samples into seconds (rate, errors, p50/p99) and pairs each with the replicas then. */
export function buildTimeline(
  samples: readonly RequestSample[],
  replicas: readonly ReplicaObservation[],
  seconds: number,
): TimelinePoint[] {
  const buckets = Array.from({ length: seconds }, () => ({ latencies: [] as number[], errors: 0 }));
  for (const sample of samples) {
    const second = Math.floor((sample.startedAtMs + sample.latencyMs) / 1000);
    const bucket = buckets[second];
    if (!bucket) continue;
    if (sample.status === 200) bucket.latencies.push(sample.latencyMs);
    else bucket.errors++;
  }
  return buckets.map((bucket, second) => ({
    second,
    requestsPerSecond: bucket.latencies.length + bucket.errors,
    errors: bucket.errors,
    latencyP50Ms: bucket.latencies.length ? round(percentile(bucket.latencies, 50)) : null,
    latencyP99Ms: bucket.latencies.length ? round(percentile(bucket.latencies, 99)) : null,
    replicas: replicasAt(replicas, (second + 1) * 1000),
  }));
}

/** The last observed count at or before `atMs` (the first one before any). */
function replicasAt(observations: readonly ReplicaObservation[], atMs: number): number {
  let count = observations[0]?.replicas ?? 0;
  for (const observation of observations) {
    if (observation.atMs > atMs) break;
    count = observation.replicas;
  }
  return count;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
