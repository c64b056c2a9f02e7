import { InferenceError, type InferenceResult } from './inference-types.js';

/** Every how many requests a trusted candidate answers, one is answered by the stable version and compared. */
export const sampleEvery = 10;

/**
 * Where a rollout's candidate stands with callers:
 *
 *   verifying ──`verifyRequests` answers agree──► trusted (every `sampleEvery`th request still compared)
 *       └──────────── an output contract differs ──┴──► breached (no more traffic; the rollout rolls back)
 *
 * While verifying, each request the split sends the candidate is answered by both versions and the
 * caller gets the stable answer, so a candidate that answers in another shape never reaches a caller.
 */
export type CandidateWatchState =
  | { readonly kind: 'verifying'; readonly agreed: number }
  | { readonly kind: 'trusted'; readonly sinceSample: number }
  | { readonly kind: 'breached'; readonly reason: string };

/** How one version answered one request. */
export type Answer = { ok: true; result: InferenceResult } | { ok: false; error: unknown };

/**
 * What a rollout learns about its candidate by asking the stable version the same requests: whether
 * their output contracts (names, datatypes, shapes) agree, and which requests the candidate refused
 * (a 4xx) that the stable version answers, which count as the candidate's failures.
 */
export interface CandidateWatch {
  readonly state: CandidateWatchState;
  /** Why the candidate must take no more traffic, once an answer proved it breaks callers. */
  readonly breach: string | undefined;
  /** Whether the next request the split sends the candidate is answered by the stable version too. */
  shadowNext(): boolean;
  /** Both versions answered the same request (the stable one successfully). */
  compare(stable: InferenceResult, candidate: Answer): void;
  /** Refusals of requests the stable version answers, for the rollout's reason; undefined with none. */
  regressionSummary(): string | undefined;
}

export function createCandidateWatch(options: {
  stableLabel: string;
  candidateLabel: string;
  /** Agreeing answers before the candidate answers callers itself (the rollout's `minRequests`). */
  verifyRequests: number;
  /** Counts a regression against the candidate's error rate, which the rollout judges. */
  onRegression(): void;
}): CandidateWatch {
  const { stableLabel, candidateLabel } = options;
  const verifyRequests = Math.max(1, options.verifyRequests);
  let state: CandidateWatchState = { kind: 'verifying', agreed: 0 };
  let regressions = 0;
  let firstRegression: string | undefined;

  const agreed = () => {
    if (state.kind === 'verifying') {
      state =
        state.agreed + 1 >= verifyRequests
          ? { kind: 'trusted', sinceSample: 0 }
          : { kind: 'verifying', agreed: state.agreed + 1 };
    }
  };

  return {
    get state() {
      return state;
    },
    get breach() {
      return state.kind === 'breached' ? state.reason : undefined;
    },
    shadowNext() {
      if (state.kind === 'verifying') return true;
      if (state.kind !== 'trusted') return false;
      const due = state.sinceSample + 1 >= sampleEvery;
      state = { kind: 'trusted', sinceSample: due ? 0 : state.sinceSample + 1 };
      return due;
    },
    compare(stable, candidate) {
      if (state.kind === 'breached') return;
      if (!candidate.ok) {
        if (isClientError(candidate.error)) {
          regressions++;
          firstRegression ??= `${candidate.error.status}: ${candidate.error.message}`;
          options.onRegression();
        }
        // A server-side failure already counts against the candidate where it happened.
        return;
      }
      const difference = contractDifference(stable, candidate.result);
      if (difference) {
        state = {
          kind: 'breached',
          reason: `version ${candidateLabel} answers with another output contract than version ${stableLabel}: ${difference}`,
        };
        return;
      }
      agreed();
    },
    regressionSummary() {
      return regressions === 0
        ? undefined
        : `version ${candidateLabel} refused ${regressions} request(s) that version ${stableLabel} answers (first: ${firstRegression})`;
    },
  };
}

function isClientError(error: unknown): error is InferenceError {
  return error instanceof InferenceError && error.status >= 400 && error.status < 500;
}

function describe(tensor: { datatype: string; shape: readonly number[] }): string {
  return `${tensor.datatype} [${tensor.shape.join(', ')}]`;
}

/** The first way two answers to one request differ in what callers parse, or undefined. */
export function contractDifference(stable: InferenceResult, candidate: InferenceResult): string | undefined {
  const candidateOutputs = new Map(candidate.outputs.map((output) => [output.name, output]));
  for (const output of stable.outputs) {
    const other = candidateOutputs.get(output.name);
    if (!other) return `output '${output.name}' is missing; it answers ${names(candidate)}`;
    if (describe(other) !== describe(output)) {
      return `output '${output.name}' is ${describe(other)} where it was ${describe(output)}`;
    }
  }
  const known = new Set(stable.outputs.map((output) => output.name));
  const extra = candidate.outputs.find((output) => !known.has(output.name));
  return extra ? `output '${extra.name}' is new; the stable version answers ${names(stable)}` : undefined;
}

function names(result: InferenceResult): string {
  return result.outputs.map((output) => `'${output.name}'`).join(', ') || 'no outputs';
}
