import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  type CallOptionsV1,
  type LogEntry,
  type LogQueryInput,
  logQuerySchema,
  type MetricQueryInput,
  type MetricQueryResult,
  MlscaleError,
  metricQuerySchema,
  parseSpec,
  redact,
  resourceNameSchema,
  type TrainingJobSpec,
  type TrainingJobStatus,
  type TrainingOperationsV1,
  terminalTrainingJobStates,
  trainingJobSpecSchema,
  waitFor,
} from '@mlscale/core';
import { processIsAlive } from '../runtime/process-is-alive.js';
import { bucketMetricPoints, type MetricPoint, readMetricPoints } from './job-metrics.js';
import { type JobPaths, jobPaths, jobsDirectory } from './job-paths.js';
import { type JobRecord, toTrainingJobStatus, withSecondaryStatus } from './job-record.js';
import { type JobControl, superviseJob } from './job-supervisor.js';
import {
  type LocalJobOptions,
  type LocalTrainingSettingsInput,
  localJobOptionsSchema,
  parseLocalTrainingSettings,
} from './local-training-settings.js';
import { requireLocal } from './prepare-job-directory.js';
import { readJobLogs } from './read-job-logs.js';
import { readJsonFile, writeFileAtomically } from './write-file-atomically.js';

/** The local backend's training: core's `TrainingOperationsV1` plus what monitoring and tests need. */
export interface LocalTraining extends TrainingOperationsV1 {
  /** The absolute root (`<root>/jobs/<name>/` per job). */
  readonly root: string;
  /** Whether a job with this name exists (monitoring's `JobSource`). */
  has(name: string): boolean;
  /** A job's log lines (every rank's stdout and stderr, and the backend's own), following while it runs. */
  logs(
    name: string,
    query?: LogQueryInput & { signal?: AbortSignal },
    options?: CallOptionsV1,
  ): AsyncIterable<LogEntry>;
  /** A job's metrics (from its metric definitions) as aligned series. */
  metrics(query: MetricQueryInput, options?: CallOptionsV1): Promise<MetricQueryResult>;
  /** Every value a job's metric definitions found in its logs, in time order. */
  metricPoints(name: string): Promise<MetricPoint[]>;
  /**
   * Test hook: reclaims a running spot job's capacity as a spot interruption does. The processes are
   * stopped, `checkpoints/` is kept, and they restart after `capacityReturnsAfterSeconds` (default from
   * settings) unless `spot.maxWaitSeconds` runs out first.
   */
  simulateSpotInterruption(
    name: string,
    options?: { capacityReturnsAfterSeconds?: number },
  ): Promise<TrainingJobStatus>;
  /** Resolves with the job's status once it is Completed, Failed or Stopped. */
  waitUntilFinished(
    name: string,
    options?: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<TrainingJobStatus>;
  /** Stops the jobs this program runs and waits for them to end. */
  close(): Promise<void>;
}

/** Jobs supervised in this process, by `<instance>/<job>`: how a record written here is known to be live. */
const supervisedHere = new Set<string>();

/**
 * Local training: each job's `command` runs as child processes in `<root>/jobs/<name>/`, laid out like
 * SageMaker's `/opt/ml`, with SageMaker's, Vertex AI's and torchrun's environment.
 */
export function createLocalTraining(settingsInput: LocalTrainingSettingsInput = {}): LocalTraining {
  const settings = parseLocalTrainingSettings(settingsInput);
  const { provider, root } = settings;
  const instanceId = randomUUID();
  const active = new Map<string, JobControl>();
  let closed = false;

  function checkName(name: string): void {
    parseSpec(resourceNameSchema, name, 'training job name');
  }

  function notFound(name: string): MlscaleError {
    return new MlscaleError({
      code: 'NotFound',
      provider,
      message: `Training job '${name}' does not exist under ${jobsDirectory(root)}.`,
    });
  }

  function supervisorAlive(record: JobRecord): boolean {
    const { pid, instanceId: owner } = record.supervisor;
    if (pid === process.pid) return supervisedHere.has(`${owner}/${record.name}`);
    return processIsAlive(pid);
  }

  /** The record on disk; a job left unfinished by a program that is gone is marked Failed (Interrupted). */
  async function readRecord(name: string): Promise<JobRecord | undefined> {
    const control = active.get(name);
    if (control) return control.current();
    const paths = jobPaths(root, name);
    const record = await readJsonFile<JobRecord>(paths.record);
    if (!record || terminalTrainingJobStates.has(record.state) || supervisorAlive(record)) return record;
    const { attemptStartedAt: _, ...rest } = record;
    const orphaned: JobRecord = {
      ...withSecondaryStatus(rest, 'Interrupted'),
      state: 'Failed',
      endedAt: new Date().toISOString(),
      failureReason: `The program that ran this job (pid ${record.supervisor.pid}) ended while the job was ${record.state}; its processes were not watched after that. Start the job again under a new name.`,
    };
    await writeFileAtomically(paths.record, JSON.stringify(orphaned, null, 2));
    return orphaned;
  }

  async function existingRecord(name: string): Promise<JobRecord> {
    checkName(name);
    const record = await readRecord(name);
    if (!record) throw notFound(name);
    return record;
  }

  async function checkLocalSources(spec: TrainingJobSpec, options: LocalJobOptions): Promise<void> {
    if (!spec.command) {
      throw new MlscaleError({
        code: 'Unsupported',
        provider,
        message:
          'The local backend runs a command, not a container image (there is no container engine here): set command, e.g. ["node", "train.js"].',
      });
    }
    for (const [channel, input] of Object.entries(spec.inputs))
      requireLocal(input.uri, `inputs.${channel}.uri`, provider);
    if (spec.output) requireLocal(spec.output.uri, 'output.uri', provider);
    if (spec.spot?.checkpointPath) requireLocal(spec.spot.checkpointPath, 'spot.checkpointPath', provider);
    if (options.workingDirectory) {
      const directory = await stat(options.workingDirectory).catch(() => undefined);
      if (!directory?.isDirectory()) {
        throw new MlscaleError({
          code: 'InvalidSpec',
          provider,
          message: `Invalid training job spec: providerOptions.local.workingDirectory: expected an existing directory, got ${options.workingDirectory}`,
          issues: [
            { path: 'providerOptions.local.workingDirectory', message: 'expected an existing directory' },
          ],
        });
      }
    }
  }

  async function createJobDirectory(paths: JobPaths, name: string): Promise<void> {
    await mkdir(jobsDirectory(root), { recursive: true });
    try {
      // Not recursive: exactly one creator wins, across processes too.
      await mkdir(paths.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      throw new MlscaleError({
        code: 'AlreadyExists',
        provider,
        message: `Training job '${name}' already exists (${paths.directory}); job names are unique, as on SageMaker. Pick a new name.`,
      });
    }
    await mkdir(paths.logs);
  }

  const training: LocalTraining = {
    root,

    async doCreate(specInput, _options: CallOptionsV1) {
      if (closed)
        throw new MlscaleError({
          code: 'Conflict',
          provider,
          message: 'The local training backend is closed.',
        });
      const spec = parseSpec(trainingJobSpecSchema, specInput, 'training job spec');
      const options = parseSpec(
        localJobOptionsSchema,
        spec.providerOptions?.local ?? {},
        'providerOptions.local',
      );
      const jobOptions: LocalJobOptions = {
        ...options,
        ...(options.workingDirectory ? { workingDirectory: resolve(options.workingDirectory) } : {}),
      };
      await checkLocalSources(spec, jobOptions);
      const paths = jobPaths(root, spec.name);
      await createJobDirectory(paths, spec.name);
      const record: JobRecord = {
        formatVersion: 1,
        name: spec.name,
        // The record is a snapshot users read: secret-named variables (API_TOKEN, ...) are masked there.
        spec: { ...spec, environment: redact(spec.environment) },
        state: 'Pending',
        secondaryStatus: 'Starting',
        transitions: [{ status: 'Starting', time: new Date().toISOString() }],
        createdAt: new Date().toISOString(),
        trainingMilliseconds: 0,
        attempts: 0,
        interruptions: 0,
        finalMetrics: {},
        supervisor: { pid: process.pid, instanceId },
        processes: [],
        directory: paths.directory,
      };
      // Marked live before the record exists, so no reader in this process takes it for an orphan.
      const key = `${instanceId}/${spec.name}`;
      supervisedHere.add(key);
      try {
        await writeFileAtomically(paths.record, JSON.stringify(record, null, 2));
      } catch (error) {
        supervisedHere.delete(key);
        throw error;
      }
      const control = superviseJob({ spec, record, paths, settings, options: jobOptions });
      active.set(spec.name, control);
      void control.done.finally(() => {
        active.delete(spec.name);
        supervisedHere.delete(key);
      });
      return toTrainingJobStatus(record, provider);
    },

    async doGet(name) {
      checkName(name);
      const record = await readRecord(name);
      return record ? toTrainingJobStatus(record, provider) : undefined;
    },

    async *doList() {
      const names = await readdir(jobsDirectory(root)).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [] as string[];
        throw error;
      });
      const records: JobRecord[] = [];
      for (const name of names) {
        if (!resourceNameSchema.safeParse(name).success) continue;
        const record = await readRecord(name);
        if (record) records.push(record);
      }
      records.sort((left, right) => right.createdAt.localeCompare(left.createdAt));
      for (const record of records) yield toTrainingJobStatus(record, provider);
    },

    async doStop(name) {
      const record = await existingRecord(name);
      const control = active.get(name);
      if (control) {
        control.requestStop();
        return toTrainingJobStatus(control.current(), provider);
      }
      if (terminalTrainingJobStates.has(record.state)) return toTrainingJobStatus(record, provider);
      throw new MlscaleError({
        code: 'Conflict',
        provider,
        message: `Training job '${name}' is run by another program (pid ${record.supervisor.pid}); stop it from there.`,
      });
    },

    has(name) {
      return resourceNameSchema.safeParse(name).success && existsSync(jobPaths(root, name).record);
    },

    logs(name, query = {}, callOptions = {}) {
      const { signal: querySignal, ...rest } = query;
      const signal = querySignal ?? callOptions.signal;
      checkName(name);
      const parsed = parseSpec(logQuerySchema, rest, 'log query');
      const paths = jobPaths(root, name);
      return (async function* () {
        await existingRecord(name);
        yield* readJobLogs(paths.logFile, {
          ...(parsed.since ? { since: parsed.since } : {}),
          ...(parsed.filter ? { filter: parsed.filter } : {}),
          ...(parsed.limit !== undefined ? { limit: parsed.limit } : {}),
          follow: parsed.follow,
          ...(signal ? { signal } : {}),
          intervalMs: settings.followIntervalMs,
          isFinished: async () => {
            const record = await readRecord(name);
            return !record || terminalTrainingJobStates.has(record.state);
          },
        });
      })();
    },

    async metrics(input) {
      const query = parseSpec(metricQuerySchema, input, 'metric query');
      if (!('job' in query.target)) {
        throw new MlscaleError({
          code: 'InvalidSpec',
          provider,
          message: 'Invalid metric query: target: expected { job: name } (training metrics are per job).',
          issues: [{ path: 'target', message: 'expected { job: name }' }],
        });
      }
      const record = await existingRecord(query.target.job);
      const points = await readMetricPoints(
        jobPaths(root, record.name).logFile,
        record.spec.metricDefinitions,
      );
      const defined = record.spec.metricDefinitions.map((definition) => definition.name);
      return bucketMetricPoints(points, query, defined, provider);
    },

    async metricPoints(name) {
      const record = await existingRecord(name);
      return readMetricPoints(jobPaths(root, name).logFile, record.spec.metricDefinitions);
    },

    async simulateSpotInterruption(name, options = {}) {
      const record = await existingRecord(name);
      const control = active.get(name);
      if (!record.spec.spot) {
        throw new MlscaleError({
          code: 'Unsupported',
          provider,
          message: `Training job '${name}' does not run on spot capacity (no spot settings), so it cannot be interrupted.`,
        });
      }
      const delaySeconds = options.capacityReturnsAfterSeconds ?? settings.spotCapacityDelaySeconds;
      if (!(Number.isFinite(delaySeconds) && delaySeconds >= 0)) {
        throw new MlscaleError({
          code: 'InvalidSpec',
          provider,
          message: `Invalid spot interruption: capacityReturnsAfterSeconds: expected a number of seconds ≥ 0, got ${delaySeconds}.`,
          issues: [{ path: 'capacityReturnsAfterSeconds', message: 'expected a number of seconds ≥ 0' }],
        });
      }
      if (!control?.interrupt(delaySeconds * 1000)) {
        throw new MlscaleError({
          code: 'Conflict',
          provider,
          message: `Training job '${name}' has no running processes to interrupt (it is ${record.state}, ${record.secondaryStatus}).`,
        });
      }
      return toTrainingJobStatus(control.current(), provider);
    },

    async waitUntilFinished(name, options = {}) {
      checkName(name);
      return waitFor<TrainingJobStatus>({
        description: `training job '${name}' to end`,
        minDelayMs: 50,
        maxDelayMs: 500,
        ...(options.timeoutMs !== undefined ? { maxWaitMs: options.timeoutMs } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        check: async () => {
          const record = await existingRecord(name);
          const status = toTrainingJobStatus(record, provider);
          if (!terminalTrainingJobStates.has(record.state))
            return { state: 'RETRY', progress: record.secondaryStatus };
          // Everything the supervisor wrote (the final record) is on disk once `done` resolves.
          await active.get(name)?.done;
          return { state: 'SUCCESS', value: status };
        },
      });
    },

    async close() {
      closed = true;
      const controls = [...active.values()];
      for (const control of controls) control.requestStop('the local training backend was closed');
      await Promise.all(controls.map((control) => control.done));
    },
  };
  return training;
}
