import { cp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { redactText, type TrainingJobSpec, terminalTrainingJobStates } from '@mlscale/core';
import { containerEnvironment, jobTopology, placements } from './container-environment.js';
import { freePort } from './free-port.js';
import { openJobLog } from './job-log.js';
import { metricExtractor } from './job-metrics.js';
import type { JobPaths } from './job-paths.js';
import { type JobRecord, withSecondaryStatus } from './job-record.js';
import type { LocalJobOptions, LocalTrainingSettings } from './local-training-settings.js';
import { setLongTimeout } from './long-timeout.js';
import { prepareJobDirectory, requireLocal, saveCheckpoints } from './prepare-job-directory.js';
import { type RunningProcess, startProcess, terminateProcesses } from './process-group.js';
import { writeFileAtomically } from './write-file-atomically.js';

/** How one attempt (one start of the processes) ended. */
type AttemptOutcome =
  | { kind: 'completed' }
  | { kind: 'failed'; reason: string }
  | { kind: 'stopped'; secondaryStatus: 'Stopped' | 'MaxRuntimeExceeded'; reason?: string }
  | { kind: 'interrupted'; capacityDelayMs: number }
  | { kind: 'maxWait' };

/** Handles on a job this program supervises. */
export interface JobControl {
  /** The record as it is now. */
  current(): JobRecord;
  /** Stops the job: SIGTERM, then SIGKILL after the grace period. */
  requestStop(reason?: string): void;
  /** Reclaims the capacity as a spot interruption does; returns false when no processes are running. */
  interrupt(capacityDelayMs: number): boolean;
  /** Resolves when the job has reached a terminal state and it is on disk. */
  readonly done: Promise<void>;
}

export interface SuperviseInput {
  /** The spec as given: the record keeps a copy with secret-named environment values masked. */
  spec: TrainingJobSpec;
  record: JobRecord;
  paths: JobPaths;
  settings: LocalTrainingSettings;
  options: LocalJobOptions;
}

const stderrLinesKept = 20;
const failureFileCharacters = 1024;

/**
 * Runs a job's processes to the end: prepares the directory, starts processesPerNode × nodes processes
 * with the container contract's environment, records every transition on disk, and handles failure,
 * stop, max runtime, spot interruptions (restart from checkpoints) and max wait.
 */
export function superviseJob(input: SuperviseInput): JobControl {
  const { paths, settings, options } = input;
  const { spec } = input;
  const provider = settings.provider;
  const topology = jobTopology(spec);
  const graceMs = (options.stopGraceSeconds ?? settings.stopGraceSeconds) * 1000;
  const extractor = metricExtractor(spec.metricDefinitions);

  let record = input.record;
  let writes: Promise<void> = Promise.resolve();
  let stopReason: string | undefined;
  let decideAttempt: ((outcome: AttemptOutcome) => void) | undefined;
  let wakeCapacityWait: (() => void) | undefined;
  const stderrTails = new Map<number, string[]>();

  const log = openJobLog(paths.logFile, (source, stream, message, time) => {
    const points = extractor.extract(message, time);
    if (points.length > 0) {
      const finalMetrics = { ...record.finalMetrics };
      for (const point of points) finalMetrics[point.name] = point.value;
      record = { ...record, finalMetrics };
    }
    const rank = /^rank-(\d+)$/.exec(source);
    if (stream === 'stderr' && rank) {
      const tail = stderrTails.get(Number(rank[1])) ?? [];
      tail.push(message);
      if (tail.length > stderrLinesKept) tail.shift();
      stderrTails.set(Number(rank[1]), tail);
    }
  });

  /**
   * Applies a change to the latest record and queues its atomic write (writes stay in call order). A
   * failed write is logged, not thrown: the next change writes the whole record again.
   */
  function update(change: (current: JobRecord) => JobRecord): Promise<void> {
    record = change(record);
    const snapshot = JSON.stringify(record, null, 2);
    writes = writes
      .then(() => writeFileAtomically(paths.record, snapshot))
      .catch((error: Error) =>
        log.write('system', 'system', `Could not save the job record: ${error.message}`),
      );
    return writes;
  }

  function secondary(status: string, message?: string): Promise<void> {
    if (message) log.write('system', 'system', `${status}: ${message}`);
    return update((current) => withSecondaryStatus(current, status, message));
  }

  async function finish(
    state: 'Completed' | 'Failed' | 'Stopped',
    secondaryStatus: string,
    failureReason?: string,
  ): Promise<void> {
    log.write(
      'system',
      'system',
      `Job ${state} (${secondaryStatus})${failureReason ? `: ${failureReason}` : ''}`,
    );
    // Lines reach the disk before the state does: a reader that sees the end has every line.
    await log.close();
    await update((current) => ({
      ...withSecondaryStatus(current, secondaryStatus),
      state,
      endedAt: new Date().toISOString(),
      ...(failureReason ? { failureReason: redactText(failureReason) } : {}),
    }));
  }

  async function failureReason(rank: number, code: number | null, signal: string | null): Promise<string> {
    try {
      const text = (await readFile(paths.failure, 'utf8')).trim();
      if (text) return text.slice(0, failureFileCharacters);
    } catch {
      // No failure file: the exit status and stderr tell the story.
    }
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const tail = (stderrTails.get(rank) ?? []).slice(-5).join('\n');
    return `Rank ${rank} ${how}${tail ? `; last stderr lines:\n${tail}` : ''}`;
  }

  async function runAttempt(maxWaitDeadline: number | undefined): Promise<AttemptOutcome> {
    const masterPort = await freePort();
    await rm(paths.failure, { force: true });
    stderrTails.clear();
    const started = Date.now();
    const everyPlacement = placements(topology);
    const processes: RunningProcess[] = [];
    let decided: AttemptOutcome | undefined;
    let resolveDecision!: (outcome: AttemptOutcome) => void;
    const decision = new Promise<AttemptOutcome>((resolve) => {
      resolveDecision = resolve;
    });
    const decide = (outcome: AttemptOutcome) => {
      if (decided) return;
      decided = outcome;
      resolveDecision(outcome);
    };
    decideAttempt = decide;
    if (stopReason !== undefined) decide({ kind: 'stopped', secondaryStatus: 'Stopped' });

    const workingDirectory = options.workingDirectory ?? process.cwd();
    let exitedCleanly = 0;
    for (const placement of everyPlacement) {
      if (decided) break;
      const environment = containerEnvironment({
        spec,
        paths,
        topology,
        placement,
        masterPort,
        restartCount: record.interruptions,
      });
      const running = startProcess(spec.command!, { cwd: workingDirectory, env: environment });
      processes.push(running);
      const source = `rank-${placement.rank}`;
      const stdout = log.lineSplitter(source, 'stdout');
      const stderr = log.lineSplitter(source, 'stderr');
      running.child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
      running.child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
      running.child.once('error', (error) => {
        decide({
          kind: 'failed',
          reason: `Rank ${placement.rank} could not start ${spec.command![0]}: ${error.message}`,
        });
      });
      void running.ended.then(async ({ code, signal }) => {
        stdout.flush();
        stderr.flush();
        await update((current) => ({
          ...current,
          processes: current.processes.map((entry) =>
            entry.rank === placement.rank ? { ...entry, exitCode: code, signal } : entry,
          ),
        }));
        if (decided) return;
        if (code === 0) {
          exitedCleanly++;
          if (exitedCleanly === everyPlacement.length) decide({ kind: 'completed' });
          return;
        }
        decide({ kind: 'failed', reason: await failureReason(placement.rank, code, signal) });
      });
    }
    await update((current) => ({
      ...withSecondaryStatus(current, 'Training'),
      attempts: current.attempts + 1,
      attemptStartedAt: new Date(started).toISOString(),
      processes: everyPlacement.map((placement, index) => ({
        ...placement,
        ...(processes[index]?.child.pid !== undefined ? { pid: processes[index]!.child.pid } : {}),
      })),
    }));
    log.write(
      'system',
      'system',
      `Started ${processes.length} process(es) in ${workingDirectory}${topology.distributed ? ` (MASTER_PORT ${masterPort})` : ''}`,
    );

    const maxRuntimeMs = (spec.maxRuntimeSeconds ?? settings.defaultMaxRuntimeSeconds) * 1000;
    const cancelRuntimeTimer = setLongTimeout(
      () =>
        decide({
          kind: 'stopped',
          secondaryStatus: 'MaxRuntimeExceeded',
          reason: `The job ran longer than maxRuntimeSeconds (${maxRuntimeMs / 1000} s) and was stopped.`,
        }),
      maxRuntimeMs - record.trainingMilliseconds,
    );
    const cancelWaitTimer =
      maxWaitDeadline === undefined
        ? undefined
        : setLongTimeout(() => decide({ kind: 'maxWait' }), maxWaitDeadline - Date.now());

    const outcome = await decision;
    decideAttempt = undefined;
    cancelRuntimeTimer();
    cancelWaitTimer?.();
    if (outcome.kind !== 'completed') await terminateProcesses(processes, graceMs);
    else await Promise.all(processes.map((running) => running.ended));
    await update((current) => {
      const { attemptStartedAt: _, ...rest } = current;
      return { ...rest, trainingMilliseconds: current.trainingMilliseconds + (Date.now() - started) };
    });
    return outcome;
  }

  /** Waits for spot capacity to return; false when the wait was cut short (stop, or max wait). */
  async function waitForCapacity(delayMs: number, maxWaitDeadline: number | undefined): Promise<boolean> {
    const until = Math.min(Date.now() + delayMs, maxWaitDeadline ?? Number.POSITIVE_INFINITY);
    await new Promise<void>((resolve) => {
      const cancel = setLongTimeout(resolve, until - Date.now());
      wakeCapacityWait = () => {
        cancel();
        resolve();
      };
    });
    wakeCapacityWait = undefined;
    return stopReason === undefined && (maxWaitDeadline === undefined || Date.now() < maxWaitDeadline);
  }

  async function copyOutputs(): Promise<string> {
    if (!spec.output) return paths.model;
    const base = join(requireLocal(spec.output.uri, 'output.uri', provider), spec.name);
    await cp(paths.model, join(base, 'model'), { recursive: true });
    await cp(paths.output, join(base, 'output'), { recursive: true });
    return join(base, 'model');
  }

  async function run(): Promise<void> {
    const startedAt = Date.now();
    await update((current) => ({
      ...withSecondaryStatus(current, 'Starting'),
      state: 'Running',
      startedAt: new Date(startedAt).toISOString(),
    }));
    await secondary('Downloading', 'preparing the job directory and input channels');
    try {
      await prepareJobDirectory(spec, paths, topology, provider);
    } catch (error) {
      return finish('Failed', 'Failed', `Could not prepare the job: ${(error as Error).message}`);
    }
    const maxWaitDeadline = spec.spot ? startedAt + spec.spot.maxWaitSeconds * 1000 : undefined;
    for (;;) {
      if (stopReason !== undefined) return finish('Stopped', 'Stopped');
      const outcome = await runAttempt(maxWaitDeadline);
      await saveCheckpoints(spec, paths, provider).catch((error: Error) =>
        log.write('system', 'system', `Could not save checkpoints to spot.checkpointPath: ${error.message}`),
      );
      switch (outcome.kind) {
        case 'completed': {
          await secondary('Uploading', 'collecting the model and output');
          const modelUri = await copyOutputs();
          await update((current) => ({ ...current, modelUri }));
          return finish('Completed', 'Completed');
        }
        case 'failed':
          return finish('Failed', 'Failed', outcome.reason);
        case 'stopped':
          // SageMaker gives a reason for a max-runtime stop only; a requested stop is not a failure.
          return finish('Stopped', outcome.secondaryStatus, outcome.reason);
        case 'maxWait':
          return finish('Failed', 'MaxWaitTimeExceeded', maxWaitMessage());
        case 'interrupted': {
          await update((current) => ({ ...current, interruptions: current.interruptions + 1 }));
          await secondary('Interrupted', 'spot capacity was reclaimed; checkpoints kept');
          if (!(await waitForCapacity(outcome.capacityDelayMs, maxWaitDeadline))) {
            if (stopReason !== undefined) return finish('Stopped', 'Stopped');
            return finish('Failed', 'MaxWaitTimeExceeded', maxWaitMessage());
          }
          await secondary('Starting', 'capacity is back; restarting from the checkpoints');
        }
      }
    }
  }

  function maxWaitMessage(): string {
    return `The job did not finish within spot.maxWaitSeconds (${spec.spot?.maxWaitSeconds} s) of waiting and training.`;
  }

  const done = run().catch(async (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    await finish('Failed', 'Failed', `The local backend failed while running the job: ${message}`).catch(
      () => {},
    );
  });

  return {
    current: () => record,
    done: done.then(() => writes),
    requestStop(reason = 'Stopped by request.') {
      // A job that has ended stays as it ended.
      if (stopReason !== undefined || terminalTrainingJobStates.has(record.state)) return;
      stopReason = reason;
      log.write('system', 'system', `Stopping: ${reason}`);
      void update((current) => ({ ...withSecondaryStatus(current, 'Stopping'), state: 'Stopping' }));
      decideAttempt?.({ kind: 'stopped', secondaryStatus: 'Stopped' });
      wakeCapacityWait?.();
    },
    interrupt(capacityDelayMs) {
      if (!decideAttempt || record.secondaryStatus !== 'Training') return false;
      log.write('system', 'system', 'Spot interruption: the capacity is being reclaimed');
      decideAttempt({ kind: 'interrupted', capacityDelayMs });
      return true;
    },
  };
}
