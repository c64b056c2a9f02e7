import type { TrainingJobSpec, TrainingJobState, TrainingJobStatus } from '@mlscale/core';

/** One step of the secondary status, as SageMaker's SecondaryStatusTransitions list them. */
export interface SecondaryStatusTransition {
  status: string;
  /** ISO time it began. */
  time: string;
  message?: string;
}

/** One process of the current (or last) attempt. */
export interface ProcessRecord {
  rank: number;
  node: number;
  localRank: number;
  pid?: number;
  exitCode?: number | null;
  signal?: string | null;
}

/**
 * A job as kept on disk (`<root>/jobs/<name>/job.json`), written atomically on every change, so a new
 * program lists and reads the jobs an earlier one ran.
 */
export interface JobRecord {
  formatVersion: 1;
  name: string;
  spec: TrainingJobSpec;
  state: TrainingJobState;
  secondaryStatus: string;
  transitions: SecondaryStatusTransition[];
  failureReason?: string;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  /** Milliseconds processes ran in finished attempts. */
  trainingMilliseconds: number;
  /** When the running attempt's processes started, while they run. */
  attemptStartedAt?: string;
  /** Attempts started so far (1 + restarts after interruptions). */
  attempts: number;
  interruptions: number;
  finalMetrics: Record<string, number>;
  /** The program supervising the job: a job whose supervisor is gone cannot be Running. */
  supervisor: { pid: number; instanceId: string };
  processes: ProcessRecord[];
  modelUri?: string;
  directory: string;
}

/** Moves the secondary status on, recording the transition. */
export function withSecondaryStatus(record: JobRecord, status: string, message?: string): JobRecord {
  if (record.secondaryStatus === status && message === undefined) return record;
  const transition: SecondaryStatusTransition = {
    status,
    time: new Date().toISOString(),
    ...(message ? { message } : {}),
  };
  return { ...record, secondaryStatus: status, transitions: [...record.transitions, transition] };
}

/** Milliseconds processes have run, the current attempt included. */
export function trainingMilliseconds(record: JobRecord, now = Date.now()): number {
  const running = record.attemptStartedAt ? now - Date.parse(record.attemptStartedAt) : 0;
  return record.trainingMilliseconds + Math.max(0, running);
}

/** The record as core's `TrainingJobStatus`. */
export function toTrainingJobStatus(record: JobRecord, provider: string): TrainingJobStatus {
  const trainingSeconds = Math.round(trainingMilliseconds(record) / 100) / 10;
  return {
    name: record.name,
    provider,
    state: record.state,
    secondaryStatus: record.secondaryStatus,
    ...(record.failureReason ? { failureReason: record.failureReason } : {}),
    spec: record.spec,
    createdAt: new Date(record.createdAt),
    ...(record.startedAt ? { startedAt: new Date(record.startedAt) } : {}),
    ...(record.endedAt ? { endedAt: new Date(record.endedAt) } : {}),
    trainingSeconds,
    // Local capacity costs nothing extra: billed time is the time processes ran.
    billableSeconds: trainingSeconds,
    interruptions: record.interruptions,
    ...(record.modelUri ? { modelUri: record.modelUri } : {}),
    finalMetrics: { ...record.finalMetrics },
    details: {
      directory: record.directory,
      attempts: record.attempts,
      processes: record.processes,
      secondaryStatusTransitions: record.transitions,
      supervisorPid: record.supervisor.pid,
    },
  };
}
