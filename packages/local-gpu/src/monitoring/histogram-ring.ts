import { latencyBinCount, latencyBinIndex } from './latency-histogram.js';
import { ScalarRing } from './scalar-ring.js';

/**
 * Per-second latency histograms in a ring of `capacity` seconds, plus the exact count, sum, minimum and
 * maximum of each second (a ScalarRing). Memory is fixed: capacity × latencyBinCount × 4 bytes for the
 * bins. Recording one latency is O(1) and allocates nothing.
 */
export class HistogramRing {
  readonly capacity: number;
  readonly cells: ScalarRing;
  private readonly bins: Uint32Array;
  private readonly binSeconds: Float64Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.cells = new ScalarRing(capacity);
    this.bins = new Uint32Array(capacity * latencyBinCount);
    this.binSeconds = new Float64Array(capacity).fill(Number.NaN);
  }

  private binOffset(second: number): number {
    const slot = second % this.capacity;
    if (this.binSeconds[slot] !== second) {
      this.binSeconds[slot] = second;
      this.bins.fill(0, slot * latencyBinCount, (slot + 1) * latencyBinCount);
    }
    return slot * latencyBinCount;
  }

  /** Records one latency in `second`. */
  record(second: number, latencyMs: number): void {
    if (second <= this.cells.newestSecond - this.capacity) return;
    const held = this.binSeconds[second % this.capacity]!;
    if (held > second) return;
    this.cells.add(second, latencyMs);
    this.bins[this.binOffset(second) + latencyBinIndex(latencyMs)]! += 1;
  }

  /** Adds `count` to one bin of `second` (from persistence; the cell is merged separately). */
  mergeBin(second: number, bin: number, count: number): void {
    if (bin < 0 || bin >= latencyBinCount || !this.cells.has(second)) return;
    this.bins[this.binOffset(second) + bin]! += count;
  }

  /** Adds `second`'s bin counts into `into` (length latencyBinCount). */
  addBinsTo(second: number, into: Float64Array): void {
    if (!this.cells.has(second) || this.binSeconds[second % this.capacity] !== second) return;
    const offset = (second % this.capacity) * latencyBinCount;
    for (let bin = 0; bin < latencyBinCount; bin++) into[bin]! += this.bins[offset + bin]!;
  }

  /** `second`'s non-empty bins as [bin, count] pairs (for persistence). */
  nonEmptyBins(second: number): [number, number][] {
    const pairs: [number, number][] = [];
    if (!this.cells.has(second) || this.binSeconds[second % this.capacity] !== second) return pairs;
    const offset = (second % this.capacity) * latencyBinCount;
    for (let bin = 0; bin < latencyBinCount; bin++) {
      const count = this.bins[offset + bin]!;
      if (count > 0) pairs.push([bin, count]);
    }
    return pairs;
  }

  /** Bytes held (fixed). */
  get sizeBytes(): number {
    return this.cells.sizeBytes + this.bins.byteLength + this.binSeconds.byteLength;
  }
}
