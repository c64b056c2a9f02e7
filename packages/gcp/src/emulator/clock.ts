/** A `google.protobuf.Timestamp` as proto-loader reads and writes it (64-bit seconds as a string). */
export interface Timestamp {
  seconds: string;
  nanos: number;
}

/** `date` as a Timestamp. */
export function timestamp(date: Date = new Date()): Timestamp {
  const milliseconds = date.getTime();
  return { seconds: String(Math.floor(milliseconds / 1000)), nanos: (milliseconds % 1000) * 1_000_000 };
}

/** A Timestamp (or a Duration) as milliseconds. */
export function toMilliseconds(
  value: { seconds?: string | number | null; nanos?: number | null } | null | undefined,
): number {
  if (!value) return 0;
  return Number(value.seconds ?? 0) * 1000 + Math.floor((value.nanos ?? 0) / 1_000_000);
}

/**
 * The emulator's own clock: the machine's, offset by `skewMs`, as a server's clock may run ahead of or
 * behind its clients'. Resource and operation times (create_time, update_time) come from it.
 */
export interface EmulatorClock {
  now(): Date;
  /** Sets how far the clock runs ahead (positive) or behind (negative) the machine's, in milliseconds. */
  setSkew(skewMs: number): void;
}

export function createClock(skewMs = 0): EmulatorClock {
  let skew = skewMs;
  return {
    now: () => new Date(Date.now() + skew),
    setSkew(next) {
      skew = next;
    },
  };
}

/** Runs callbacks later and forgets them all on close, so a closed emulator leaves no timers behind. */
export interface Scheduler {
  after(milliseconds: number, callback: () => void): void;
  close(): void;
}

export function createScheduler(): Scheduler {
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  return {
    after(milliseconds, callback) {
      if (closed) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!closed) callback();
      }, milliseconds);
      timers.add(timer);
    },
    close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
