import { rolloutSchema } from '@mlscale/core';
import { describe, expect, it } from 'vitest';
import { nextTrafficMove } from './traffic-rollout.js';

const rollout = rolloutSchema.parse({ steps: [10, 50, 100], stepSeconds: 30 });
const from = { old: 100 };
const final = { new: 100 };
const start = new Date('2026-01-01T00:00:00.000Z');
const later = (seconds: number) => new Date(start.getTime() + seconds * 1000);

describe('a traffic rollout across reconcile steps', () => {
  it('starts with the first step, remembering the split it starts from', () => {
    expect(nextTrafficMove(rollout, undefined, from, final, start)).toEqual({
      kind: 'moveTraffic',
      split: { old: 90, new: 10 },
      rollout: { step: 10, since: start.toISOString(), from },
    });
  });

  it('waits out stepSeconds without sleeping, then judges the step and moves to the next', () => {
    const progress = { step: 10, since: start.toISOString(), from };
    const current = { old: 90, new: 10 };
    expect(nextTrafficMove(rollout, progress, current, final, later(29))).toMatchObject({ kind: 'wait' });
    expect(nextTrafficMove(rollout, progress, current, final, later(30))).toEqual({
      kind: 'moveTraffic',
      split: { old: 50, new: 50 },
      rollout: { step: 50, since: later(30).toISOString(), from },
      judge: { since: start, step: 10, deployedModelIds: ['new'] },
    });
    const last = nextTrafficMove(rollout, { ...progress, step: 50 }, { old: 50, new: 50 }, final, later(60));
    expect(last).toMatchObject({ kind: 'moveTraffic', split: final, rollout: { step: 100 } });
  });

  it('puts a step back when the split was changed meanwhile, and moves at once without a rollout', () => {
    const progress = { step: 50, since: start.toISOString(), from };
    expect(nextTrafficMove(rollout, progress, { old: 100 }, final, later(5))).toMatchObject({
      kind: 'moveTraffic',
      split: { old: 50, new: 50 },
      rollout: { step: 50, since: later(5).toISOString() },
    });
    expect(nextTrafficMove(undefined, undefined, from, final, start)).toMatchObject({
      kind: 'moveTraffic',
      split: final,
    });
  });
});
