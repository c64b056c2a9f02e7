/** Where monitoring reads the time: the system clock, or a fake one in tests (epoch milliseconds). */
export interface MonitoringClock {
  now(): number;
}

/** The wall clock. */
export const systemClock: MonitoringClock = { now: () => Date.now() };

/** The whole epoch second `timeMs` falls in. */
export function epochSecond(timeMs: number): number {
  return Math.floor(timeMs / 1000);
}
