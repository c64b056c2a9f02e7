export { type AlertEvent, advanceAlertState, conditionHolds } from './alert-state.js';
export { type AlertWebhookPayload, alertWebhookPayload, type WebhookSenderOptions } from './alert-webhook.js';
export { type MonitoringClock, systemClock } from './clock.js';
export {
  createLocalMonitoring,
  type LocalMonitoring,
  type LocalMonitoringSettings,
  localMonitoringSettingsSchema,
} from './create-local-monitoring.js';
export {
  type CapturedExchange,
  type DataCaptureSettings,
  dataCaptureSettingsSchema,
} from './data-capture.js';
export type { LogLevel, ServerLogger } from './deployment-logs.js';
export type { DeploymentGauges, DeploymentMonitor, DeploymentMonitorOptions } from './deployment-monitor.js';
export { type DriftMonitorOptions, type DriftReport, driftMonitorOptionsSchema } from './drift-monitor.js';
export {
  computeFeatureBaseline,
  type FeatureBaseline,
  type FeatureRows,
  featureBin,
} from './feature-baseline.js';
export { latencyRelativeErrorBound } from './latency-histogram.js';
export type { MetricStore } from './metric-store.js';
export type { DeploymentSource, JobSource } from './monitoring-sources.js';
export { populationStabilityIndex } from './population-stability-index.js';
export type { RequestRecord } from './request-record.js';
