import { deploymentSpecSchema } from '@mlscale/core';
import { describe, expect, it } from 'vitest';
import { createCandidateWatch } from '../src/deployments/candidate-watch.js';
import type { ModelVersion } from '../src/deployments/model-version.js';
import {
  type PlacedVersion,
  type RolloutRecord,
  type RuntimeState,
  runsTarget,
  transition,
  versionsOf,
} from '../src/deployments/runtime-phase.js';
import { observeRuntime } from '../src/deployments/runtime-status.js';

/** A version stand-in: the state machine only carries versions, it never calls them. */
const placed = (label: string): PlacedVersion => ({
  version: { label, desiredReplicas: 1 } as unknown as ModelVersion,
  device: { requested: 'cpu', used: 'cpu', executionProviders: ['cpu'] },
  threads: 1,
});

const target = (hash: string, replicas = 1) => ({
  spec: deploymentSpecSchema.parse({ name: 'machine', model: { uri: `/models/${hash}.onnx` }, replicas }),
  hash,
});

const start = (): RuntimeState => ({
  phase: { kind: 'starting' },
  stable: placed('1'),
  target: target('a'),
  updatedAt: new Date(0),
});

const record = (version: string, outcome: 'promoted' | 'rolledBack'): RolloutRecord =>
  outcome === 'promoted'
    ? { version, model: '/m.onnx', at: '', result: 'promoted', steps: [100] }
    : { version, model: '/m.onnx', at: '', result: 'rolledBack', reason: 'error rate', step: 50 };

/** A candidate watch that nothing reports to. */
const watch = () =>
  createCandidateWatch({ stableLabel: '1', candidateLabel: '2', verifyRequests: 1, onRegression() {} });

describe('the runtime state machine', () => {
  it('starts, serves, and fails to start with the reason', () => {
    const serving = transition(start(), { type: 'replicas-started' });
    expect(serving.phase).toEqual({ kind: 'serving' });
    expect(runsTarget(serving)).toBe(true);
    expect(observeRuntime(serving)).toMatchObject({ state: 'InService', runsTarget: true, targetHash: 'a' });
    const failed = transition(start(), { type: 'replicas-failed', reason: 'replicas failed to start: boom' });
    expect(failed.phase).toEqual({ kind: 'failed', reason: 'replicas failed to start: boom' });
    expect(observeRuntime(failed)).toMatchObject({
      state: 'Failed',
      reason: 'replicas failed to start: boom',
    });
  });

  it('applies a change in place, scaling until that same request is done', () => {
    const serving = transition(start(), { type: 'replicas-started' });
    const first = { replicas: 3 };
    const scaling = transition(serving, { type: 'changed-in-place', target: target('b', 3), scaling: first });
    expect(observeRuntime(scaling)).toMatchObject({
      state: 'Updating',
      reason: 'scaling to 3 replicas',
      targetHash: 'b',
      runsTarget: false,
    });
    // A newer change supersedes the first: the first one's completion does not end the newer scaling.
    const second = { replicas: 2 };
    const rescaled = transition(scaling, {
      type: 'changed-in-place',
      target: target('c', 2),
      scaling: second,
    });
    expect(transition(rescaled, { type: 'scaled', request: first })).toBe(rescaled);
    const done = transition(rescaled, { type: 'scaled', request: second });
    expect(done.phase).toEqual({ kind: 'serving' });
    expect(runsTarget(done)).toBe(true);
    const refused = transition(
      transition(done, { type: 'changed-in-place', target: target('d', 9), scaling: first }),
      { type: 'scaling-failed', request: first, reason: 'scaling to 9 replicas failed: no memory' },
    );
    expect(refused.refusal).toEqual({ specHash: 'd', reason: 'scaling to 9 replicas failed: no memory' });
    expect(observeRuntime(refused)).toMatchObject({ state: 'InService', runsTarget: false });
  });

  it('rolls out, moves weight, and promotes the candidate to stable', () => {
    const serving = transition(start(), { type: 'replicas-started' });
    const canary = placed('2');
    const rolling = transition(serving, {
      type: 'rollout-started',
      target: target('b'),
      canary,
      watch: watch(),
    });
    expect(rolling.phase).toMatchObject({ kind: 'rolling-out', weight: 0, step: 0 });
    expect(versionsOf(rolling).map((entry) => entry.version.label)).toEqual(['1', '2']);
    const half = transition(rolling, { type: 'weight-changed', weight: 50, step: 1 });
    expect(observeRuntime(half)).toMatchObject({
      state: 'Updating',
      reason: 'rolling out version 2 (50% of traffic)',
    });
    // Not a change while a rollout runs.
    expect(transition(half, { type: 'changed-in-place', target: target('c') })).toBe(half);
    const promoted = transition(half, { type: 'promoted', rollout: record('2', 'promoted') });
    expect(promoted.phase).toEqual({ kind: 'serving' });
    expect(promoted.stable).toBe(canary);
    expect(promoted.lastRollout).toMatchObject({ version: '2', result: 'promoted' });
    expect(runsTarget(promoted)).toBe(true);
  });

  it('rolls back through rolling-back, keeping the stable version, and records the refusal', () => {
    const serving = transition(start(), { type: 'replicas-started' });
    const rolling = transition(serving, {
      type: 'rollout-started',
      target: target('b'),
      canary: placed('2'),
      watch: watch(),
    });
    const asked = transition(rolling, { type: 'rollback-requested', reason: "alert 'x' fired" });
    expect(asked.phase).toMatchObject({ kind: 'rolling-out', rollbackRequest: "alert 'x' fired" });
    const back = transition(asked, { type: 'rolling-back', reason: "alert 'x' fired" });
    expect(observeRuntime(back)).toMatchObject({ state: 'RollingBack', reason: "alert 'x' fired" });
    expect(versionsOf(back)).toHaveLength(2);
    const done = transition(back, {
      type: 'rolled-back',
      reason: "rolled back version 2: alert 'x' fired",
      rollout: record('2', 'rolledBack'),
    });
    expect(done.phase).toEqual({ kind: 'serving' });
    expect(done.stable.version.label).toBe('1');
    expect(done.refusal).toEqual({ specHash: 'b', reason: "rolled back version 2: alert 'x' fired" });
    expect(observeRuntime(done)).toMatchObject({
      state: 'InService',
      reason: "rolled back version 2: alert 'x' fired",
    });
    // The next change clears the refusal.
    const restored = transition(done, { type: 'changed-in-place', target: target('a') });
    expect(restored.refusal).toBeUndefined();
    expect(runsTarget(restored)).toBe(true);
  });

  it('closes from any phase, and ignores what background work reports after', () => {
    const serving = transition(start(), { type: 'replicas-started' });
    const rolling = transition(serving, {
      type: 'rollout-started',
      target: target('b'),
      canary: placed('2'),
      watch: watch(),
    });
    const closing = transition(rolling, { type: 'closing' });
    expect(observeRuntime(closing).state).toBe('Deleting');
    expect(transition(closing, { type: 'promoted', rollout: record('2', 'promoted') })).toBe(closing);
    expect(transition(closing, { type: 'closing' })).toBe(closing);
    const closed = transition(closing, { type: 'closed' });
    expect(closed.phase).toEqual({ kind: 'closed' });
    expect(transition(closed, { type: 'replicas-started' })).toBe(closed);
    // `closed` only follows `closing`.
    expect(transition(serving, { type: 'closed' })).toBe(serving);
  });
});
