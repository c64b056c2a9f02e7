/** Faults the emulator can inject, to test what callers do when Azure misbehaves. */
export type AzureMlEmulatorFault =
  | {
      /** Answer 429 with Retry-After (ARM throttling). */
      kind: 'throttle';
      /** How many matching requests get it. Default 1. */
      times?: number;
      retryAfterSeconds?: number;
      method?: string;
      /** Matched against the request path. */
      path?: string | RegExp;
    }
  | {
      /** Answer 500 InternalServerError. */
      kind: 'serverError';
      times?: number;
      method?: string;
      path?: string | RegExp;
    }
  | {
      /** A deployment whose provisioning fails with this code and message. */
      kind: 'failProvisioning';
      /** Which deployment names (all when omitted). */
      deployment?: string | RegExp;
      code?: string;
      message?: string;
      times?: number;
    }
  | {
      /** Long-running operations and job steps take this much longer. */
      kind: 'slow';
      extraMs: number;
      times?: number;
    }
  | {
      /** A job that fails once it runs. */
      kind: 'failJob';
      job?: string | RegExp;
      times?: number;
    };

type FaultKind = AzureMlEmulatorFault['kind'];
type FaultOf<Kind extends FaultKind> = Extract<AzureMlEmulatorFault, { kind: Kind }>;

/** Armed faults, each used up after `times` matches. */
export class FaultBook {
  private readonly armed: { fault: AzureMlEmulatorFault; remaining: number }[] = [];

  add(fault: AzureMlEmulatorFault): void {
    this.armed.push({ fault, remaining: fault.times ?? 1 });
  }

  /** The first armed fault of `kind` that `matches`, consuming one use. */
  take<Kind extends FaultKind>(
    kind: Kind,
    matches: (fault: FaultOf<Kind>) => boolean = () => true,
  ): FaultOf<Kind> | undefined {
    for (const entry of this.armed) {
      if (entry.remaining <= 0 || entry.fault.kind !== kind) continue;
      const fault = entry.fault as FaultOf<Kind>;
      if (!matches(fault)) continue;
      entry.remaining -= 1;
      return fault;
    }
    return undefined;
  }
}

/** Whether `value` matches an optional string-or-pattern filter (case-insensitive for strings). */
export function matchesFilter(filter: string | RegExp | undefined, value: string): boolean {
  if (filter === undefined) return true;
  if (typeof filter === 'string') return value.toLowerCase().includes(filter.toLowerCase());
  return filter.test(value);
}
