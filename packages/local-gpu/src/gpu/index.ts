export { type GpuReading, type GpuStats, parseNvidiaSmi, readGpuStats } from './nvidia-smi.js';
