import type { CallOptionsV1, LogEntry, LogQuery, MetricQuery, MetricQueryResult } from '@mlscale/core';

/** What monitoring needs to know about deployments it has no monitor for (the lead plugs in the server's list). */
export interface DeploymentSource {
  /** Whether a deployment with this name exists. */
  has(name: string): boolean;
}

/** Where job logs and metrics come from (the training runner). */
export interface JobSource {
  /** Whether a job with this name exists. */
  has(name: string): boolean;
  /** The job's log lines (stdout, stderr, per rank), honouring since / follow / filter / limit. */
  logs(name: string, query: LogQuery, options: CallOptionsV1): AsyncIterable<LogEntry>;
  /** The job's metrics (its metric definitions, and the normalized names it can give), aligned like the store's. */
  metrics(
    query: MetricQuery & { target: { job: string } },
    options: CallOptionsV1,
  ): Promise<MetricQueryResult>;
}
