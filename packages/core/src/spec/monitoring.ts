import { z } from 'zod';
import { resourceNameSchema } from './common.js';

/** Metric names every backend maps its own metrics to. */
export const normalizedMetricNames = [
  'invocations',
  'errors4xx',
  'errors5xx',
  'latencyP50',
  'latencyP90',
  'latencyP99',
  'replicas',
  'queueDepth',
  'cpuUtilization',
  'memoryUtilization',
  'gpuUtilization',
  'drift',
] as const;
export const normalizedMetricNameSchema = z.enum(normalizedMetricNames);
export type NormalizedMetricName = z.infer<typeof normalizedMetricNameSchema>;

/**
 * A normalized name, or a training job's own metric (from its metric definitions). Typed so editors
 * offer the normalized names while any job metric's name still fits.
 */
export type MetricName = NormalizedMetricName | (string & {});

/** A normalized name, or a training job's own metric (from its metric definitions). */
export const metricNameSchema: z.ZodType<MetricName, MetricName> = z.union([
  normalizedMetricNameSchema,
  z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,254}$/, 'expected a normalized metric name or a job metric name'),
]);

/** What a metric or log query is about. */
export const monitoringTargetSchema = z.union(
  [z.object({ deployment: resourceNameSchema }).strict(), z.object({ job: resourceNameSchema }).strict()],
  { error: 'expected { deployment: name } or { job: name }' },
);
export type MonitoringTarget = z.infer<typeof monitoringTargetSchema>;

export const statisticSchema = z.enum([
  'average',
  'sum',
  'minimum',
  'maximum',
  'sampleCount',
  'p50',
  'p90',
  'p99',
]);
export type Statistic = z.infer<typeof statisticSchema>;

const dateSchema = z.coerce.date({ error: 'expected a date (Date, ISO string or epoch milliseconds)' });

/** A metric query: aligned series over [from, to) in buckets of `periodSeconds`. */
export const metricQuerySchema = z
  .object({
    target: monitoringTargetSchema,
    names: z.array(metricNameSchema).min(1, 'expected at least one metric name'),
    /** Start; defaults to one hour before `to`. */
    from: dateSchema.optional(),
    /** End; defaults to now. */
    to: dateSchema.optional(),
    periodSeconds: z.number().int().min(1).max(86_400).default(60),
    stat: statisticSchema.default('average'),
  })
  .strict()
  .refine((query) => !query.from || !query.to || query.from < query.to, {
    message: 'expected from to be before to',
    path: ['from'],
  });
export type MetricQuery = z.infer<typeof metricQuerySchema>;
export type MetricQueryInput = z.input<typeof metricQuerySchema>;

/** An alert: fires when `stat(metric) comparator threshold` holds for `forSeconds`. */
export const alertRuleSchema = z
  .object({
    name: resourceNameSchema,
    target: monitoringTargetSchema,
    metric: metricNameSchema,
    stat: statisticSchema.default('average'),
    comparator: z.enum(['>', '>=', '<', '<=']),
    threshold: z.number().finite(),
    /** How long the condition must hold before firing (and stop holding before resolving). */
    forSeconds: z.number().int().min(0).default(60),
    /** Evaluation window per data point. */
    periodSeconds: z.number().int().min(1).default(60),
    /** Where firing and resolving are POSTed as JSON (optional). */
    webhookUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  })
  .strict();
export type AlertRule = z.infer<typeof alertRuleSchema>;
export type AlertRuleInput = z.input<typeof alertRuleSchema>;

/** Options for reading logs. */
export const logQuerySchema = z
  .object({
    since: dateSchema.optional(),
    /** Keep reading as new lines arrive, until the signal aborts (or the job ends). */
    follow: z.boolean().default(false),
    /** Only lines containing this text. */
    filter: z.string().optional(),
    /** At most this many entries (not with follow). */
    limit: z.number().int().min(1).optional(),
  })
  .strict();
export type LogQuery = z.infer<typeof logQuerySchema>;
export type LogQueryInput = z.input<typeof logQuerySchema>;
