import { type MlscaleError, toMlscaleError } from '../errors.js';
import { redact, redactText } from '../redact.js';
import { specHash } from '../spec-hash.js';
import type { AuditSink } from './audit.js';
import type { MlscaleEvent, MutatingOperation } from './events.js';
import type { Logger } from './logger.js';

/** Runs a mutating operation with its events, log lines and audit entry. */
export type Mutation = <T>(
  operation: MutatingOperation,
  target: string,
  /** What the audit entry's `specHash` is computed from (secrets sealed already), if anything. */
  hashed: unknown,
  run: () => Promise<T>,
) => Promise<T>;

type Outcome = { result: 'succeeded' } | { result: 'failed'; error: MlscaleError };

export function createMutationRecorder(options: {
  provider: string;
  actor: string;
  audit: AuditSink | undefined;
  logger: Logger;
  emit: (event: MlscaleEvent) => void;
}): Mutation {
  const { provider, logger, emit } = options;

  async function writeAudit(
    operation: MutatingOperation,
    target: string,
    hashed: unknown,
    started: number,
    outcome: Outcome,
  ): Promise<void> {
    if (!options.audit) return;
    try {
      await options.audit.write(
        redact({
          time: new Date(started).toISOString(),
          actor: options.actor,
          provider,
          operation,
          target,
          ...(hashed === undefined ? {} : { specHash: specHash(hashed) }),
          result: outcome.result,
          durationMs: Date.now() - started,
          ...(outcome.result === 'failed'
            ? { error: { code: outcome.error.code, message: outcome.error.message } }
            : {}),
        }),
      );
    } catch (error) {
      logger.warn('audit sink failed; the operation itself was not affected', { error: String(error) });
    }
  }

  return async (operation, target, hashed, run) => {
    const started = Date.now();
    emit({ type: 'operation-started', operation, target, time: new Date(started) });
    logger.info(`${operation} ${target}`);
    let outcome: Outcome = { result: 'succeeded' };
    try {
      const value = await run();
      emit({
        type: 'operation-succeeded',
        operation,
        target,
        time: new Date(),
        durationMs: Date.now() - started,
      });
      return value;
    } catch (error) {
      const failure = toMlscaleError(error, provider);
      outcome = { result: 'failed', error: failure };
      emit({
        type: 'operation-failed',
        operation,
        target,
        time: new Date(),
        durationMs: Date.now() - started,
        error: redactText(failure.message),
      });
      logger.error(`${operation} ${target} failed`, {
        code: failure.code,
        error: redactText(failure.message),
      });
      throw failure;
    } finally {
      await writeAudit(operation, target, hashed, started, outcome);
    }
  };
}
