import { join } from 'node:path';
import {
  type AlertRule,
  type AlertStatus,
  abortedError,
  alertRuleSchema,
  type CallOptionsV1,
  type LogEntry,
  type LogQuery,
  type MetricQuery,
  type MetricQueryResult,
  MlscaleError,
  type MonitoringOperationsV1,
  type MonitoringTarget,
  parseSpec,
  redactText,
  resourceNameSchema,
} from '@mlscale/core';
import { z } from 'zod';
import type { GpuStats } from '../gpu/nvidia-smi.js';
import { createAlertEvaluator } from './alert-evaluator.js';
import type { AlertEvent } from './alert-state.js';
import { createWebhookSender, type WebhookSenderOptions } from './alert-webhook.js';
import { epochSecond, type MonitoringClock, systemClock } from './clock.js';
import { requestLogEntry } from './deployment-logs.js';
import {
  configureDeploymentMonitor,
  createDeploymentMonitor,
  type DeploymentMonitor,
  type DeploymentMonitorContext,
  type DeploymentMonitorOptions,
  type DeploymentMonitorRecord,
  deploymentMonitorOptionsSchema,
} from './deployment-monitor.js';
import { driftMonitorOptionsSchema } from './drift-monitor.js';
import { functionSchema } from './function-schema.js';
import { createMetricPersistence, type MetricPersistence } from './metric-persistence.js';
import { createMetricStore, type MetricStore } from './metric-store.js';
import type { DeploymentSource, JobSource } from './monitoring-sources.js';
import { createProcessStatsReader, type ProcessStatsReading } from './process-stats.js';
import { readLogs } from './read-logs.js';
import { sampleDeployment } from './sample-deployment.js';

const provider = 'local';
/** A GPU reading older than this is not used (nvidia-smi hung, or sampling paused). */
const gpuReadingMaxAgeMs = 5000;

/** Settings of `createLocalMonitoring`. */
export const localMonitoringSettingsSchema = z
  .object({
    /** Persist under `<root>/metrics/`, `<root>/logs/<deployment>/` and `<root>/capture/`; memory only when omitted. */
    root: z.string().min(1).optional(),
    /** Seconds of one-second samples kept per series (memory and the queryable range). Default 1 hour. */
    retentionSeconds: z
      .number()
      .int()
      .min(60)
      .max(7 * 86_400)
      .default(3600),
    /** Request and server log entries kept in memory per deployment. Default 10 000 each. */
    logCapacity: z.number().int().min(10).max(10_000_000).default(10_000),
    /** Rotation size of every persisted file (the previous one is kept as `.1`). Default 16 MiB. */
    maxFileBytes: z
      .number()
      .int()
      .min(1024)
      .default(16 * 1024 * 1024),
    /** How often gauges, drift and alerts are sampled; `false` for manual `tick()` (tests). Default 1000 ms. */
    sampleIntervalMs: z.union([z.number().int().min(10), z.literal(false)]).default(1000),
    /** The clock (tests use a fake one). */
    clock: z
      .custom<MonitoringClock>((value) => typeof (value as MonitoringClock)?.now === 'function', {
        message: 'expected a clock: { now(): number }',
      })
      .optional(),
    /** Tells whether a deployment exists when there is no monitor for it. */
    deploymentSource: z
      .custom<DeploymentSource>((value) => typeof (value as DeploymentSource)?.has === 'function', {
        message: 'expected { has(name) }',
      })
      .optional(),
    /** Job logs and metrics (the training runner). */
    jobSource: z
      .custom<JobSource>(
        (value) =>
          typeof (value as JobSource)?.has === 'function' &&
          typeof (value as JobSource)?.logs === 'function' &&
          typeof (value as JobSource)?.metrics === 'function',
        { message: 'expected { has(name), logs(name, query, options), metrics(query, options) }' },
      )
      .optional(),
    /** Reads GPU utilization (default: nvidia-smi through `readGpuStats`), only for deployments that use a GPU. */
    readGpu: functionSchema<() => Promise<GpuStats>>('a GPU reader').optional(),
    /** Reads process CPU and memory utilization (default: process.cpuUsage and RSS). */
    readProcessStats: functionSchema<() => ProcessStatsReading>('a process stats reader').optional(),
    /** Called for every alert event (firing and resolved). */
    onAlert: functionSchema<(event: AlertEvent) => void>('an alert listener').optional(),
    /** Webhook delivery settings (retry policy, timeout). */
    webhook: z
      .custom<WebhookSenderOptions>((value) => typeof value === 'object' && value !== null, {
        message: 'expected webhook options: { retry?, attemptTimeoutMs? }',
      })
      .optional(),
    /** Drift window defaults for every deployment. */
    drift: driftMonitorOptionsSchema.optional(),
    /** Random numbers in [0, 1) for data capture sampling (tests give a seeded one). */
    random: functionSchema<() => number>('a random source').optional(),
    /** Where background failures go (file writes, webhooks, gauge callbacks); messages carry no secrets. */
    onError: functionSchema<(message: string, error: unknown) => void>('an error listener').optional(),
  })
  .strict();
export type LocalMonitoringSettings = z.input<typeof localMonitoringSettingsSchema>;

/** Local monitoring: core's monitoring operations plus what the server, registry and rollout logic use. */
export interface LocalMonitoring extends MonitoringOperationsV1 {
  /** The monitor for a deployment, created on first call (later calls apply the gauges/baseline/capture given). */
  deployment(name: string, options?: DeploymentMonitorOptions): DeploymentMonitor;
  /** Forgets a deployment: its monitor, metrics and logs (after a delete). */
  forgetDeployment(name: string): boolean;
  /** Listens to every alert event; returns the unsubscribe function. */
  onAlert(listener: (event: AlertEvent) => void): () => void;
  /** Listens to alerts starting to fire (a rollout can roll back on it); returns the unsubscribe function. */
  onFire(listener: (rule: AlertRule, event: AlertEvent) => void): () => void;
  /** Samples gauges and drift, evaluates alerts and writes files once (the timer calls it each second). */
  tick(): Promise<void>;
  /** The metric store (for reports and tests). */
  readonly store: MetricStore;
  /** Resolves when queued webhook deliveries are done. */
  webhooksIdle(): Promise<void>;
  /** Stops sampling, writes what is pending, stops webhook retries. */
  close(): Promise<void>;
}

/**
 * Creates local monitoring: a bounded one-second metric store, request and server logs, continuously
 * evaluated alerts with webhooks, data capture and drift, behind core's `MonitoringOperationsV1`.
 */
export function createLocalMonitoring(input: LocalMonitoringSettings = {}): LocalMonitoring {
  const settings = parseSpec(localMonitoringSettingsSchema, input, 'local monitoring settings');
  const clock = settings.clock ?? systemClock;
  const store = createMetricStore({ retentionSeconds: settings.retentionSeconds });
  const monitors = new Map<string, DeploymentMonitorRecord>();
  const readProcessStats = settings.readProcessStats ?? createProcessStatsReader();
  const readGpu = settings.readGpu ?? (async () => (await import('../gpu/nvidia-smi.js')).readGpuStats());
  const reportError = (message: string, error: unknown) => settings.onError?.(redactText(message), error);
  const onFileError = (error: unknown) =>
    reportError(
      `Monitoring could not write a file: ${error instanceof Error ? error.message : String(error)}`,
      error,
    );
  const monitorContext: DeploymentMonitorContext = {
    store,
    now: () => clock.now(),
    logCapacity: settings.logCapacity,
    maxFileBytes: settings.maxFileBytes,
    onFileError,
    ...(settings.root ? { root: settings.root } : {}),
    ...(settings.drift ? { drift: settings.drift } : {}),
    ...(settings.random ? { random: settings.random } : {}),
  };
  const webhooks = createWebhookSender({
    ...settings.webhook,
    onError: (message, error) => {
      reportError(message, error);
      settings.webhook?.onError?.(message, error);
    },
  });
  const alerts = createAlertEvaluator({
    store,
    now: () => clock.now(),
    webhooks,
    logFor: (deployment) => monitors.get(deployment)?.logs.logger,
    reportError,
    ...(settings.jobSource ? { jobSource: settings.jobSource } : {}),
    ...(settings.onAlert ? { onAlert: settings.onAlert } : {}),
  });
  const persistence: MetricPersistence | undefined = settings.root
    ? createMetricPersistence(store, join(settings.root, 'metrics'), {
        maxFileBytes: settings.maxFileBytes,
        onError: onFileError,
      })
    : undefined;
  persistence?.load(epochSecond(clock.now()));

  let gpuReading: { stats: GpuStats; timeMs: number } | undefined;
  let gpuReadInFlight = false;
  let ticking = false;
  let closed = false;

  function readGpuInBackground() {
    if (gpuReadInFlight) return;
    gpuReadInFlight = true;
    // nvidia-smi runs in the background; its reading is used from the next tick on.
    void readGpu()
      .catch(
        (error: unknown): GpuStats => ({ available: false, reason: `GPU reading failed: ${String(error)}` }),
      )
      .then((stats) => {
        gpuReading = { stats, timeMs: clock.now() };
        gpuReadInFlight = false;
      });
  }

  async function tick(): Promise<void> {
    if (ticking || closed) return;
    ticking = true;
    try {
      const nowMs = clock.now();
      const second = epochSecond(nowMs);
      const inputs = {
        second,
        nowMs,
        processStats: readProcessStats(),
        gpu: gpuReading && nowMs - gpuReading.timeMs <= gpuReadingMaxAgeMs ? gpuReading.stats : undefined,
        reportError,
      };
      let wantsGpu = false;
      for (const record of monitors.values()) {
        const target = store.target(`deployment/${record.monitor.name}`);
        if (sampleDeployment(record, target, inputs).wantsGpu) wantsGpu = true;
      }
      if (wantsGpu) readGpuInBackground();
      await alerts.evaluate(nowMs);
      // Two seconds behind, so late requests of a second are in before it is written.
      await flushFiles(second - 2);
    } finally {
      ticking = false;
    }
  }

  async function flushFiles(upToSecond: number) {
    persistence?.writeThrough(upToSecond);
    await Promise.all([
      persistence?.flush(),
      ...[...monitors.values()].flatMap((record) => [record.logs.flush(), record.capture?.flush()]),
    ]);
  }

  const timer =
    settings.sampleIntervalMs === false
      ? undefined
      : setInterval(() => {
          void tick().catch((error: unknown) =>
            reportError(`A monitoring tick failed: ${String(error)}`, error),
          );
        }, settings.sampleIntervalMs);
  timer?.unref();

  function deploymentExists(name: string): boolean {
    return (
      monitors.has(name) ||
      store.find(`deployment/${name}`) !== undefined ||
      (settings.deploymentSource?.has(name) ?? false)
    );
  }

  function notFound(target: MonitoringTarget): MlscaleError {
    const [kind, name] = 'deployment' in target ? ['deployment', target.deployment] : ['job', target.job];
    return new MlscaleError({ code: 'NotFound', provider, message: `There is no ${kind} named "${name}".` });
  }

  function requireJobSource(): JobSource {
    if (!settings.jobSource) {
      throw new MlscaleError({
        code: 'Unsupported',
        provider,
        message: 'Job monitoring needs a job source: pass jobSource to createLocalMonitoring.',
      });
    }
    return settings.jobSource;
  }

  function checkSignal(options: CallOptionsV1, what: string) {
    if (options.signal?.aborted) throw abortedError(options.signal, what);
  }

  return {
    store,
    tick,
    deployment(name, options = {}) {
      parseSpec(resourceNameSchema, name, 'deployment name');
      // Parsed for its errors only: the caller's objects (and their callbacks) are kept as given.
      parseSpec(deploymentMonitorOptionsSchema, options, 'deployment monitor options');
      const existing = monitors.get(name);
      if (existing) {
        configureDeploymentMonitor(existing, options, monitorContext);
        return existing.monitor;
      }
      const record = createDeploymentMonitor(name, options, monitorContext);
      monitors.set(name, record);
      return record.monitor;
    },
    forgetDeployment(name) {
      const had = monitors.delete(name);
      return store.remove(`deployment/${name}`) || had;
    },
    onAlert: (listener) => alerts.onAlert(listener),
    onFire: (listener) => alerts.onFire(listener),
    webhooksIdle: () => webhooks.idle(),

    async doMetrics(query: MetricQuery, options: CallOptionsV1): Promise<MetricQueryResult> {
      checkSignal(options, 'The metric query');
      if ('job' in query.target) {
        const source = requireJobSource();
        if (!source.has(query.target.job)) throw notFound(query.target);
        return source.metrics(query as MetricQuery & { target: { job: string } }, options);
      }
      if (!deploymentExists(query.target.deployment)) throw notFound(query.target);
      const to = query.to ?? new Date(clock.now());
      const from = query.from ?? new Date(to.getTime() - 3_600_000);
      return store.query(`deployment/${query.target.deployment}`, {
        names: query.names,
        from,
        to,
        periodSeconds: query.periodSeconds,
        stat: query.stat,
      });
    },

    doLogs(target: MonitoringTarget, query: LogQuery, options: CallOptionsV1): AsyncIterable<LogEntry> {
      // Errors (NotFound, Unsupported) surface on the first next(), like every other async iterator here.
      return (async function* () {
        if ('job' in target) {
          const source = requireJobSource();
          if (!source.has(target.job)) throw notFound(target);
          yield* source.logs(target.job, query, options);
          return;
        }
        const record = monitors.get(target.deployment);
        if (!record) {
          if (!deploymentExists(target.deployment)) throw notFound(target);
          return;
        }
        yield* readLogs(
          [
            { ring: record.logs.requests, toEntry: requestLogEntry },
            { ring: record.logs.server, toEntry: (entry: LogEntry) => entry },
          ],
          query,
          options.signal,
        );
      })();
    },

    async doPutAlert(input: AlertRule, options: CallOptionsV1): Promise<AlertStatus> {
      checkSignal(options, 'Putting the alert');
      const rule = parseSpec(alertRuleSchema, input, 'alert rule');
      const exists =
        'deployment' in rule.target
          ? deploymentExists(rule.target.deployment)
          : requireJobSource().has(rule.target.job);
      if (!exists) throw notFound(rule.target);
      return alerts.put(rule);
    },

    async doListAlerts(options: CallOptionsV1): Promise<AlertStatus[]> {
      checkSignal(options, 'Listing alerts');
      return alerts.list();
    },

    async doDeleteAlert(name: string, options: CallOptionsV1): Promise<boolean> {
      checkSignal(options, 'Deleting the alert');
      return alerts.delete(name);
    },

    async close() {
      if (closed) return;
      if (timer) clearInterval(timer);
      // A tick in progress finishes first (bounded: a tick awaits only file writes and job metrics).
      while (ticking) await new Promise((resolve) => setTimeout(resolve, 5));
      closed = true;
      await flushFiles(epochSecond(clock.now()));
      webhooks.close();
      await webhooks.idle();
    },
  };
}
