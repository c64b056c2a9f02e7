/** A clock tests move by hand. */
export function createFakeClock(startMs = Date.UTC(2026, 10, 1, 12, 0, 0)) {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    advance(milliseconds: number) {
      nowMs += milliseconds;
    },
    set(timeMs: number) {
      nowMs = timeMs;
    },
  };
}

/** Seeded uniform numbers in [0, 1) (mulberry32), so failures reproduce. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** Normally distributed numbers (Box–Muller) from a seeded source. */
export function seededNormal(seed: number): (mean?: number, deviation?: number) => number {
  const random = seededRandom(seed);
  return (mean = 0, deviation = 1) => {
    const u = Math.max(random(), 1e-12);
    const v = random();
    return mean + deviation * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}
