export { hyperparameterVariableSuffix, jobTopology } from './container-environment.js';
export { createLocalTraining, type LocalTraining } from './create-local-training.js';
export { formatLogLine, parseLogLine } from './job-log.js';
export { bucketMetricPoints, type MetricPoint, metricExtractor, statistic } from './job-metrics.js';
export { type JobPaths, jobPaths } from './job-paths.js';
export type { JobRecord } from './job-record.js';
export {
  type LocalJobOptions,
  type LocalTrainingSettings,
  type LocalTrainingSettingsInput,
  localJobOptionsSchema,
  localTrainingSettingsSchema,
} from './local-training-settings.js';
