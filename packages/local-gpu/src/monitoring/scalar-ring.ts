/**
 * One series' per-second cells (count, sum, minimum, maximum) in a ring of `capacity` seconds.
 *
 * Memory is fixed at creation (five Float64Arrays), so it does not grow with uptime; a write to a second
 * older than the ring holds is dropped. Every operation on one second is O(1) and allocates nothing.
 */
export class ScalarRing {
  readonly capacity: number;
  private readonly seconds: Float64Array;
  private readonly counts: Float64Array;
  private readonly sums: Float64Array;
  private readonly minimums: Float64Array;
  private readonly maximums: Float64Array;
  /** The newest second written, or -Infinity. */
  newestSecond = Number.NEGATIVE_INFINITY;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.seconds = new Float64Array(capacity).fill(Number.NaN);
    this.counts = new Float64Array(capacity);
    this.sums = new Float64Array(capacity);
    this.minimums = new Float64Array(capacity);
    this.maximums = new Float64Array(capacity);
  }

  /** The slot for `second`, reset when it held an older second; -1 when `second` is too old to keep. */
  private slot(second: number): number {
    if (second <= this.newestSecond - this.capacity) return -1;
    const index = second % this.capacity;
    const held = this.seconds[index]!;
    if (held !== second) {
      if (held > second) return -1;
      this.seconds[index] = second;
      this.counts[index] = 0;
      this.sums[index] = 0;
      this.minimums[index] = Number.POSITIVE_INFINITY;
      this.maximums[index] = Number.NEGATIVE_INFINITY;
      if (second > this.newestSecond) this.newestSecond = second;
    }
    return index;
  }

  /** Adds one observation of `value` to `second`. */
  add(second: number, value: number): void {
    const index = this.slot(second);
    if (index < 0) return;
    this.counts[index]! += 1;
    this.sums[index]! += value;
    if (value < this.minimums[index]!) this.minimums[index] = value;
    if (value > this.maximums[index]!) this.maximums[index] = value;
  }

  /** Merges a whole cell (from persistence) into `second`. */
  merge(second: number, count: number, sum: number, minimum: number, maximum: number): void {
    const index = this.slot(second);
    if (index < 0 || count <= 0) return;
    this.counts[index]! += count;
    this.sums[index]! += sum;
    if (minimum < this.minimums[index]!) this.minimums[index] = minimum;
    if (maximum > this.maximums[index]!) this.maximums[index] = maximum;
  }

  /** Marks `second` as observed with no value (a counter's zero). */
  touch(second: number): void {
    this.slot(second);
  }

  /** Whether `second` is held (observed, perhaps with a zero count). */
  has(second: number): boolean {
    return second > this.newestSecond - this.capacity && this.seconds[second % this.capacity] === second;
  }

  count(second: number): number {
    return this.has(second) ? this.counts[second % this.capacity]! : 0;
  }

  sum(second: number): number {
    return this.has(second) ? this.sums[second % this.capacity]! : 0;
  }

  minimum(second: number): number {
    return this.minimums[second % this.capacity]!;
  }

  maximum(second: number): number {
    return this.maximums[second % this.capacity]!;
  }

  /** The oldest second the ring can still hold. */
  oldestKeptSecond(): number {
    return this.newestSecond - this.capacity + 1;
  }

  /** Bytes held (fixed). */
  get sizeBytes(): number {
    return this.capacity * 8 * 5;
  }
}
