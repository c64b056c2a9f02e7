import { alertRuleSchema } from '@mlscale/core';
import { describe, expect, it } from 'vitest';
import { type AlertEvent, advanceAlertState, initialAlertState } from '../../src/monitoring/alert-state.js';

const rule = alertRuleSchema.parse({
  name: 'high-errors',
  target: { deployment: 'demo' },
  metric: 'errors5xx',
  stat: 'sum',
  comparator: '>',
  threshold: 5,
  forSeconds: 3,
  periodSeconds: 10,
});

describe('alert state', () => {
  it('goes pending, fires after forSeconds, and resolves only after forSeconds clear', () => {
    const state = initialAlertState(rule, 0);
    const events: (AlertEvent | undefined)[] = [];
    const states: string[] = [];
    // One evaluation per second: holds for 5 s, one clear second (a blip), holds, then clear for 4 s.
    const values = [1, 9, 9, 9, 9, 9, 2, 9, 2, 2, 2, 2, null];
    values.forEach((value, second) => {
      events.push(advanceAlertState(state, value, second * 1000));
      states.push(state.status.state);
    });
    expect(states).toEqual([
      'ok',
      'pending',
      'pending',
      'pending',
      'firing',
      'firing',
      'firing',
      'firing',
      'firing',
      'firing',
      'firing',
      'ok',
      'ok',
    ]);
    const fired = events.flatMap((event, second) =>
      event ? [{ type: event.type, second, value: event.value }] : [],
    );
    expect(fired).toEqual([
      { type: 'firing', second: 4, value: 9 },
      { type: 'resolved', second: 11, value: 2 },
    ]);
    expect(state.status.since.getTime()).toBe(11_000);
  });

  it('falls back to ok from pending when the condition stops before forSeconds, without an event', () => {
    const state = initialAlertState(rule, 0);
    expect(advanceAlertState(state, 10, 0)).toBeUndefined();
    expect(state.status.state).toBe('pending');
    expect(advanceAlertState(state, 10, 2000)).toBeUndefined();
    expect(advanceAlertState(state, 0, 2500)).toBeUndefined();
    expect(state.status.state).toBe('ok');
    expect(advanceAlertState(state, 10, 3000)).toBeUndefined();
    expect(state.status.state).toBe('pending');
  });

  it('fires and resolves at once with forSeconds 0, and treats no data as not holding', () => {
    const immediate = initialAlertState({ ...rule, forSeconds: 0, comparator: '<=', threshold: 0 }, 0);
    expect(advanceAlertState(immediate, null, 0)).toBeUndefined();
    expect(advanceAlertState(immediate, 0, 1000)?.type).toBe('firing');
    expect(advanceAlertState(immediate, null, 2000)?.type).toBe('resolved');
  });
});
