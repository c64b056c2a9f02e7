import { z } from 'zod';

/** A zod schema for a callback: checks it is a function, types it as `Fn`. */
export function functionSchema<Fn>(what: string) {
  return z.custom<Fn>((value) => typeof value === 'function', { message: `expected ${what} (a function)` });
}
