import { join } from 'node:path';
import { featureBaselineSchema, MlscaleError } from '@mlscale/core';
import { z } from 'zod';
import {
  type CapturedExchange,
  createDataCapture,
  type DataCapture,
  type DataCaptureSettings,
  dataCaptureSettingsSchema,
} from './data-capture.js';
import { createDeploymentLogs, type DeploymentLogs, type ServerLogger } from './deployment-logs.js';
import {
  createDriftMonitor,
  type DriftMonitor,
  type DriftMonitorOptions,
  type DriftReport,
  driftMonitorOptionsSchema,
} from './drift-monitor.js';
import type { FeatureBaseline } from './feature-baseline.js';
import { functionSchema } from './function-schema.js';
import type { MetricStore } from './metric-store.js';
import type { RequestRecord } from './request-record.js';

/** Request times further ahead of the monitoring clock than this are replaced by the clock's time. */
const maximumClockSkewMs = 60_000;

/** Values sampled once a second for a deployment. Each is optional; a throwing callback skips that second. */
export interface DeploymentGauges {
  /** Replicas ready to serve. */
  replicas?: () => number;
  /** Requests waiting in the batcher's queue. */
  queueDepth?: () => number;
  /** Whether the deployment runs on a GPU (gpuUtilization is absent otherwise). */
  usesGpu?: () => boolean;
  /** Which GPU (nvidia-smi index); the average over all GPUs when omitted. */
  gpuIndex?: () => number | undefined;
}

/** Options for `LocalMonitoring.deployment`. */
export interface DeploymentMonitorOptions {
  gauges?: DeploymentGauges;
  /** The served model's input baseline (from the registry); turns on the `drift` metric. */
  baseline?: readonly FeatureBaseline[];
  /** Drift window settings for this deployment. */
  drift?: DriftMonitorOptions;
  /** Turns on data capture (written to `<root>/capture/<deployment>.jsonl`; needs `root`). */
  dataCapture?: DataCaptureSettings;
}

export const deploymentMonitorOptionsSchema = z
  .object({
    gauges: z
      .object({
        replicas: functionSchema<() => number>('a gauge callback').optional(),
        queueDepth: functionSchema<() => number>('a gauge callback').optional(),
        usesGpu: functionSchema<() => boolean>('a gauge callback').optional(),
        gpuIndex: functionSchema<() => number | undefined>('a gauge callback').optional(),
      })
      .strict()
      .optional(),
    baseline: z
      .array(
        featureBaselineSchema.refine(
          (feature) => feature.binEdges.length === feature.binFractions.length + 1,
          { message: 'expected binEdges to have one more value than binFractions', path: ['binEdges'] },
        ),
      )
      .optional(),
    drift: driftMonitorOptionsSchema.optional(),
    dataCapture: dataCaptureSettingsSchema.optional(),
  })
  .strict();

/** What the server holds per deployment: the hot-path recorder and its logs. */
export interface DeploymentMonitor {
  readonly name: string;
  /** Records one answered request. O(1), no allocation here, never throws. */
  recordRequest(record: RequestRecord): void;
  /** Feeds input rows (row-major, the baseline's width) to drift detection; a no-op without a baseline. */
  observeInputs(values: ArrayLike<number>, timeMs?: number): void;
  /** Whether to capture this request (false when capture is off); call before building the exchange. */
  shouldCapture(): boolean;
  /** Captures one request and response (a no-op when capture is off). */
  capture(exchange: CapturedExchange): void;
  /** The deployment's server log. */
  readonly log: ServerLogger;
  /** Replaces the gauge callbacks. */
  setGauges(gauges: DeploymentGauges): void;
  /** Replaces (or with `undefined`, removes) the drift baseline, e.g. when a new model version rolls out. */
  setBaseline(baseline: readonly FeatureBaseline[] | undefined): void;
  /** Per-feature drift now, or `undefined` without a baseline. */
  driftReport(): DriftReport | undefined;
  /** Data capture counters, when capture is on. */
  readonly captureStats: { captured: number; truncated: number } | undefined;
}

/** A monitor and what the sampler reads from it. */
export interface DeploymentMonitorRecord {
  monitor: DeploymentMonitor;
  logs: DeploymentLogs;
  gauges: DeploymentGauges;
  drift?: DriftMonitor;
  /** This deployment's drift window settings (over the defaults). */
  driftOptions?: DriftMonitorOptions;
  capture?: DataCapture;
  /** Gauges whose callback threw, reported once until they recover. */
  failingGauges: Set<string>;
}

/** What a deployment monitor needs from local monitoring. */
export interface DeploymentMonitorContext {
  store: MetricStore;
  now: () => number;
  root?: string;
  logCapacity: number;
  maxFileBytes: number;
  /** Drift defaults, overridden per deployment. */
  drift?: DriftMonitorOptions;
  random?: () => number;
  onFileError: (error: unknown) => void;
}

/** Creates a deployment's monitor over the store's `deployment/<name>` series. */
export function createDeploymentMonitor(
  name: string,
  options: DeploymentMonitorOptions,
  context: DeploymentMonitorContext,
): DeploymentMonitorRecord {
  const target = context.store.target(`deployment/${name}`);
  // Resolved once, so a request costs no lookups.
  const invocations = target.counter('invocations');
  const errors4xx = target.counter('errors4xx');
  const errors5xx = target.counter('errors5xx');
  const latency = target.latency();
  const logs = createDeploymentLogs({
    capacity: context.logCapacity,
    ...(context.root ? { directory: join(context.root, 'logs', name) } : {}),
    maxFileBytes: context.maxFileBytes,
    now: context.now,
    onError: context.onFileError,
  });
  let knownNowMs = context.now();
  const record: DeploymentMonitorRecord = {
    logs,
    gauges: {},
    failingGauges: new Set(),
    monitor: {
      name,
      log: logs.logger,
      recordRequest(request) {
        let timeMs = request.timeMs;
        if (timeMs === undefined) {
          timeMs = context.now();
          knownNowMs = timeMs;
        } else if (timeMs > knownNowMs + maximumClockSkewMs) {
          // A time far ahead (a skewed caller clock) would push every ring forward and hide real seconds.
          // Clock reads cost ~100 ns on some VMs, so the clock is only read again on this rare path.
          knownNowMs = context.now();
          if (timeMs > knownNowMs + maximumClockSkewMs) timeMs = knownNowMs;
        }
        const second = Math.floor(timeMs / 1000);
        const status = request.status;
        invocations.add(second, 1);
        // Adding 0 still marks the second as observed, so error series read 0 rather than "no data".
        errors4xx.add(second, status >= 400 && status < 500 ? 1 : 0);
        errors5xx.add(second, status >= 500 ? 1 : 0);
        if (request.latencyMs >= 0) latency.record(second, request.latencyMs);
        logs.appendRequest(request, timeMs);
      },
      observeInputs(values, timeMs) {
        record.drift?.observe(values, timeMs ?? context.now());
      },
      shouldCapture: () => record.capture?.shouldCapture() ?? false,
      capture(exchange) {
        record.capture?.capture(exchange);
      },
      setGauges(gauges) {
        record.gauges = gauges;
        record.failingGauges.clear();
      },
      setBaseline(baseline) {
        if (baseline && baseline.length > 0) {
          record.drift = createDriftMonitor(baseline, { ...context.drift, ...record.driftOptions });
        } else {
          delete record.drift;
        }
      },
      driftReport: () => record.drift?.report(context.now()),
      get captureStats() {
        return record.capture?.stats;
      },
    },
  };
  configureDeploymentMonitor(record, options, context);
  return record;
}

/** Applies the options given (gauges, baseline, capture); what is not given stays as it is. */
export function configureDeploymentMonitor(
  record: DeploymentMonitorRecord,
  options: DeploymentMonitorOptions,
  context: DeploymentMonitorContext,
): void {
  if (options.gauges) record.monitor.setGauges(options.gauges);
  if (options.drift) record.driftOptions = options.drift;
  if (options.baseline) record.monitor.setBaseline(options.baseline);
  if (options.dataCapture) {
    if (!context.root) {
      throw new MlscaleError({
        code: 'InvalidSpec',
        provider: 'local',
        message: 'Data capture writes to <root>/capture/: give createLocalMonitoring a root folder.',
        issues: [{ path: 'root', message: 'expected a folder when dataCapture is on' }],
      });
    }
    record.capture = createDataCapture(
      join(context.root, 'capture', `${record.monitor.name}.jsonl`),
      options.dataCapture,
      { onError: context.onFileError, ...(context.random ? { random: context.random } : {}) },
    );
  }
}
