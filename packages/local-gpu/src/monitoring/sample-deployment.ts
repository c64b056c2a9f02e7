import type { GpuStats } from '../gpu/nvidia-smi.js';
import type { DeploymentMonitorRecord } from './deployment-monitor.js';
import type { TargetMetrics } from './metric-store.js';
import type { ProcessStatsReading } from './process-stats.js';

/** What one sampling second shares across deployments. */
export interface SampleInputs {
  second: number;
  nowMs: number;
  processStats: ProcessStatsReading;
  /** A fresh GPU reading, or `undefined` while there is none. */
  gpu: GpuStats | undefined;
  reportError: (message: string, error: unknown) => void;
}

/**
 * Samples one deployment's gauges into its series for `second`: counters marked live, replicas and queue
 * depth from its callbacks, process CPU and memory, GPU utilization when it uses a GPU (absent with a reason
 * otherwise), and drift. Returns whether the deployment wants GPU readings.
 */
export function sampleDeployment(
  record: DeploymentMonitorRecord,
  target: TargetMetrics,
  inputs: SampleInputs,
): { wantsGpu: boolean } {
  const { second } = inputs;
  target.touchCounters(second);
  sampleGauge(record, target, 'replicas', record.gauges.replicas, inputs);
  sampleGauge(record, target, 'queueDepth', record.gauges.queueDepth, inputs);
  if (inputs.processStats.cpuUtilization !== null) {
    target.gauge('cpuUtilization')?.add(second, inputs.processStats.cpuUtilization);
  }
  target.gauge('memoryUtilization')?.add(second, inputs.processStats.memoryUtilization);
  const wantsGpu = readSafely(record.gauges.usesGpu) === true;
  if (!wantsGpu) {
    target.setAbsent('gpuUtilization', 'no GPU in use: the deployment serves on the CPU');
  } else if (!inputs.gpu) {
    target.setAbsent('gpuUtilization', 'waiting for a fresh nvidia-smi reading');
  } else {
    const value = gpuUtilization(inputs.gpu, readSafely(record.gauges.gpuIndex));
    if (typeof value === 'number') {
      target.gauge('gpuUtilization')?.add(second, value);
      target.setAbsent('gpuUtilization', undefined);
    } else {
      target.setAbsent('gpuUtilization', value);
    }
  }
  if (record.drift) {
    const report = record.drift.report(inputs.nowMs);
    if (report.maximum !== null) target.gauge('drift')?.add(second, report.maximum);
    target.setAbsent(
      'drift',
      report.maximum === null
        ? `fewer input rows than drift needs in its window (${report.rows} so far)`
        : undefined,
    );
  }
  return { wantsGpu };
}

/** The utilization of GPU `index` (the average over all without one), or why there is none. */
export function gpuUtilization(stats: GpuStats, index: number | undefined): number | string {
  if (!stats.available) return stats.reason;
  const gpus = index === undefined ? stats.gpus : stats.gpus.filter((gpu) => gpu.index === index);
  if (gpus.length === 0) return `nvidia-smi lists no GPU with index ${index}`;
  return gpus.reduce((total, gpu) => total + gpu.utilizationPercent, 0) / gpus.length;
}

function readSafely<Value>(read: (() => Value) | undefined): Value | undefined {
  try {
    return read?.();
  } catch {
    return undefined;
  }
}

function sampleGauge(
  record: DeploymentMonitorRecord,
  target: TargetMetrics,
  name: string,
  read: (() => number) | undefined,
  inputs: SampleInputs,
): void {
  if (!read) return;
  try {
    const value = read();
    if (Number.isFinite(value)) target.gauge(name)?.add(inputs.second, value);
  } catch (error) {
    // Reported once per gauge until it recovers, so a broken callback cannot flood the log.
    if (!record.failingGauges.has(name)) {
      record.failingGauges.add(name);
      const reason = error instanceof Error ? error.message : String(error);
      inputs.reportError(`The ${name} gauge of "${record.monitor.name}" threw: ${reason}`, error);
    }
    return;
  }
  record.failingGauges.delete(name);
}
