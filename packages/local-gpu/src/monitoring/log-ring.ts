/**
 * A bounded, append-only ring of log items with their times, and listeners for follow mode.
 *
 * Appending is O(1) and keeps a reference to the item (no copy), so the request path allocates nothing
 * here; the oldest items are overwritten once `capacity` is reached.
 */
export class LogRing<Item> {
  readonly capacity: number;
  private readonly items: (Item | undefined)[];
  private readonly times: Float64Array;
  private readonly listeners = new Set<(item: Item, timeMs: number) => void>();
  /** Items appended since creation (the next item's sequence number). */
  appended = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.items = new Array<Item | undefined>(capacity);
    this.times = new Float64Array(capacity);
  }

  append(item: Item, timeMs: number): void {
    const slot = this.appended % this.capacity;
    this.items[slot] = item;
    this.times[slot] = timeMs;
    this.appended += 1;
    // Checked first so the common case (nobody following) makes no iterator.
    if (this.listeners.size > 0) for (const listener of this.listeners) listener(item, timeMs);
  }

  /** The sequence number of the oldest item still held. */
  get oldestSequence(): number {
    return Math.max(0, this.appended - this.capacity);
  }

  /** The item with sequence number `sequence`, if still held. */
  at(sequence: number): { item: Item; timeMs: number } | undefined {
    if (sequence < this.oldestSequence || sequence >= this.appended) return undefined;
    const slot = sequence % this.capacity;
    return { item: this.items[slot] as Item, timeMs: this.times[slot]! };
  }

  /** Calls `listener` for every item appended from now on; returns the unsubscribe function. */
  subscribe(listener: (item: Item, timeMs: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
