import type { AlertRule, AlertStatus } from '@mlscale/core';

/** A rule crossing into firing, or back to ok. */
export interface AlertEvent {
  type: 'firing' | 'resolved';
  rule: AlertRule;
  /** The value that decided it (`null`: no data, which counts as the condition not holding). */
  value: number | null;
  time: Date;
}

/** A rule's state between evaluations. */
export interface AlertState {
  status: AlertStatus;
  /** While firing: since when the condition has not held (resolution needs `forSeconds` of that). */
  clearingSinceMs?: number;
}

/** Whether `value comparator threshold` holds; no data never holds. */
export function conditionHolds(rule: AlertRule, value: number | null): boolean {
  if (value === null || Number.isNaN(value)) return false;
  switch (rule.comparator) {
    case '>':
      return value > rule.threshold;
    case '>=':
      return value >= rule.threshold;
    case '<':
      return value < rule.threshold;
    case '<=':
      return value <= rule.threshold;
  }
}

/** A new rule's state: ok since `nowMs`. */
export function initialAlertState(rule: AlertRule, nowMs: number): AlertState {
  return { status: { rule, state: 'ok', since: new Date(nowMs) } };
}

/**
 * Moves a rule's state by one evaluation, with hysteresis both ways: ok → pending when the condition
 * starts holding, pending → firing once it has held `forSeconds`, firing → ok once it has not held for
 * `forSeconds`. Returns the event to emit, if any. Mutates `state`.
 */
export function advanceAlertState(
  state: AlertState,
  value: number | null,
  nowMs: number,
): AlertEvent | undefined {
  const { rule } = state.status;
  const holds = conditionHolds(rule, value);
  const holdMs = rule.forSeconds * 1000;
  const status = state.status;
  status.lastValue = value;
  const enter = (next: AlertStatus['state'], since: number) => {
    state.status = { rule, state: next, since: new Date(since), lastValue: value };
  };
  switch (status.state) {
    case 'ok':
      if (!holds) return undefined;
      if (holdMs === 0) {
        enter('firing', nowMs);
        return { type: 'firing', rule, value, time: new Date(nowMs) };
      }
      enter('pending', nowMs);
      return undefined;
    case 'pending':
      if (!holds) {
        enter('ok', nowMs);
        return undefined;
      }
      if (nowMs - status.since.getTime() >= holdMs) {
        enter('firing', nowMs);
        return { type: 'firing', rule, value, time: new Date(nowMs) };
      }
      return undefined;
    case 'firing':
      if (holds) {
        delete state.clearingSinceMs;
        return undefined;
      }
      state.clearingSinceMs ??= nowMs;
      if (nowMs - state.clearingSinceMs >= holdMs) {
        delete state.clearingSinceMs;
        enter('ok', nowMs);
        return { type: 'resolved', rule, value, time: new Date(nowMs) };
      }
      return undefined;
  }
}
