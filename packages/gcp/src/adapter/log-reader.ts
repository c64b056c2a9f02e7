import type { protos } from '@google-cloud/logging-api';
import { type LogEntry, type LogQuery, MlscaleError, type MonitoringTarget, sleep } from '@mlscale/core';
import { fromProtobufValue, type ProtobufValue } from '../protobuf-value.js';
import { callVertex, collect, listAll, singleAttempt, singlePage } from './calls.js';
import { type AdapterContext, clientsOf, toDate } from './context.js';
import { getEndpoint } from './endpoint-calls.js';
import { provider } from './errors.js';
import { findCustomJob } from './job-calls.js';
import { endpointName, resourceId } from './names.js';

type ILogEntry = protos.google.logging.v2.ILogEntry;

const followIntervalMs = 1000;

/**
 * Logs from Cloud Logging: a job's are its `ml_job` entries (the container's stdout and stderr), a
 * deployment's are its endpoint's entries (access logs when enabled, container logs). `follow` polls
 * for newer entries until the signal aborts or the job ends.
 */
export function createLogReader(context: AdapterContext) {
  const { settings } = context;

  async function targetFilter(
    target: MonitoringTarget,
    signal?: AbortSignal,
  ): Promise<{ filter: string; job?: string }> {
    if ('job' in target) {
      const job = await findCustomJob(context, target.job, signal);
      if (!job?.name)
        throw new MlscaleError({
          code: 'NotFound',
          provider,
          message: `No training job named '${target.job}' on Vertex AI.`,
        });
      return {
        filter: `resource.type="ml_job" AND resource.labels.job_id="${resourceId(job.name)}"`,
        job: job.name,
      };
    }
    const endpoint = await getEndpoint(context, endpointName(settings, target.deployment), signal);
    if (!endpoint?.name)
      throw new MlscaleError({
        code: 'NotFound',
        provider,
        message: `No deployment named '${target.deployment}' on Vertex AI.`,
      });
    return {
      filter: `resource.type="aiplatform.googleapis.com/Endpoint" AND resource.labels.endpoint_id="${resourceId(endpoint.name)}"`,
    };
  }

  function toEntry(entry: ILogEntry): LogEntry {
    const payload = entry.jsonPayload
      ? (fromProtobufValue({ structValue: entry.jsonPayload as ProtobufValue['structValue'] }) as Record<
          string,
          unknown
        >)
      : undefined;
    const labels = entry.labels && Object.keys(entry.labels).length > 0 ? entry.labels : undefined;
    return {
      time: toDate(entry.timestamp) ?? new Date(0),
      source: labels?.source ?? entry.resource?.labels?.task_name ?? sourceOf(entry.logName),
      message: entry.textPayload ?? (payload ? JSON.stringify(payload) : ''),
      ...(labels || payload ? { fields: { ...labels, ...payload } } : {}),
    };
  }

  async function* read(
    target: MonitoringTarget,
    query: LogQuery,
    signal?: AbortSignal,
  ): AsyncIterable<LogEntry> {
    const { filter: base, job } = await targetFilter(target, signal);
    const clients = await clientsOf(context);
    let since = query.since;
    let seen = new Set<string>();
    let yielded = 0;
    for (;;) {
      const clauses = [base];
      if (since) clauses.push(`timestamp>="${since.toISOString()}"`);
      if (query.filter) clauses.push(`textPayload:"${query.filter.replace(/["\\]/g, '\\$&')}"`);
      const entries = await collect(
        listAll<ILogEntry>('Cloud Logging ListLogEntries', signal, (pageToken) =>
          clients.logging.listLogEntries(
            {
              resourceNames: [`projects/${settings.project}`],
              filter: clauses.join(' AND '),
              orderBy: 'timestamp asc',
              ...(pageToken ? { pageToken } : {}),
            },
            singlePage,
          ),
        ),
      );
      const fresh = new Set<string>();
      let unseen = 0;
      for (const entry of entries) {
        const id = entry.insertId ?? `${String(entry.timestamp?.seconds)}:${entry.textPayload}`;
        fresh.add(id);
        if (seen.has(id)) continue;
        unseen += 1;
        yield toEntry(entry);
        yielded += 1;
        if (!query.follow && query.limit !== undefined && yielded >= query.limit) return;
        since = toDate(entry.timestamp) ?? since;
      }
      seen = fresh;
      if (!query.follow || signal?.aborted) return;
      if (job) {
        const [status] = await callVertex('GetCustomJob', signal, () =>
          clients.jobs.getCustomJob({ name: job }, singleAttempt),
        );
        const finished = [
          'JOB_STATE_SUCCEEDED',
          'JOB_STATE_FAILED',
          'JOB_STATE_CANCELLED',
          'JOB_STATE_EXPIRED',
        ].includes(String(status.state));
        if (finished && unseen === 0) return;
      }
      try {
        await sleep(followIntervalMs, signal);
      } catch {
        return;
      }
    }
  }

  return { read };
}

/** The log id as a source: prediction access logs are `request`, others their decoded log id. */
function sourceOf(logName: string | null | undefined): string {
  const id = decodeURIComponent(String(logName ?? '').split('/logs/')[1] ?? '');
  if (id.endsWith('prediction_access')) return 'request';
  return id || 'server';
}
