import { deploymentSpecSchema, type SpecIssue } from '@mlscale/core';
import { describe, expect, it } from 'vitest';
import { blueGreenDeploymentConfig } from './deployment-requests.js';
import { linearSteps, translateRollout } from './rollout-translation.js';
import { sageMakerSpecIssues } from './sagemaker-spec-limits.js';

const spec = (input: object) =>
  deploymentSpecSchema.parse({ name: 'demo', model: { uri: 's3://b/m.onnx' }, ...input });
const rollout = (steps?: number[], stepSeconds?: number) =>
  spec({ rollout: { ...(steps ? { steps } : {}), ...(stepSeconds !== undefined ? { stepSeconds } : {}) } })
    .rollout!;

function issuesOf(steps?: number[], stepSeconds?: number): SpecIssue[] {
  const translated = translateRollout(rollout(steps, stepSeconds));
  if (!Array.isArray(translated)) throw new Error(`accepted: ${JSON.stringify(translated)}`);
  return translated;
}

describe('rollout steps as SageMaker blue/green traffic shifting', () => {
  it('switches [100] at once, waiting stepSeconds before the old fleet goes', () => {
    expect(translateRollout(rollout([100], 45))).toEqual({
      routing: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 45 },
      terminationWaitSeconds: 0,
    });
  });

  it('sends [50, 100] as a 50% canary, with the timeout above both waits', () => {
    expect(translateRollout(rollout([50, 100], 30))).toEqual({
      routing: {
        Type: 'CANARY',
        CanarySize: { Type: 'CAPACITY_PERCENT', Value: 50 },
        WaitIntervalInSeconds: 30,
      },
      terminationWaitSeconds: 30,
      // 600 at least (SageMaker's minimum); the waits (60 s) and 600 s for the new fleet.
      maximumExecutionSeconds: 660,
    });
  });

  it('sends equal steps as linear steps of that size, the last one partial', () => {
    expect(linearSteps(30)).toEqual([30, 60, 90, 100]);
    expect(translateRollout(rollout([30, 60, 90, 100], 60))).toEqual({
      routing: {
        Type: 'LINEAR',
        LinearStepSize: { Type: 'CAPACITY_PERCENT', Value: 30 },
        WaitIntervalInSeconds: 60,
      },
      terminationWaitSeconds: 60,
      maximumExecutionSeconds: 4 * 60 + 60 + 600,
    });
  });

  it('refuses a canary above 50% of the fleet', () => {
    expect(issuesOf([60, 100])).toEqual([
      {
        path: 'rollout.steps',
        message:
          "expected a first step of at most 50: SageMaker's canary (CanarySize) is at most 50% of the fleet; got [60, 100]",
      },
    ]);
  });

  it('refuses the default [10, 50, 100] and other unequal steps, saying what SageMaker can do', () => {
    const [issue] = issuesOf(undefined);
    expect(issue?.path).toBe('rollout.steps');
    expect(issue?.message).toBe(
      "expected [c, 100] (a canary of at most 50%, then the rest) or equal steps [s, 2s, 3s, …, 100] with s from 10 to 50 (SageMaker's LINEAR shifts the same LinearStepSize each time); [10, 50, 100] is neither: use for example [10, 100] or [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]",
    );
    expect(issuesOf([5, 50, 100])[0]?.message).toContain('[5, 50, 100] is neither');
    expect(issuesOf([10, 20, 30, 100])[0]?.message).toContain('[10, 20, 30, 100] is neither');
  });

  it('refuses equal steps below 10%, and fractional percents', () => {
    expect(issuesOf(linearSteps(5))[0]?.message).toMatch(
      /^expected linear steps of 10–50% \(SageMaker's LinearStepSize\); got steps of 5%/,
    );
    expect(issuesOf([12.5, 100])[0]?.message).toMatch(/^expected whole percents/);
  });

  it('refuses a wait above 3600 s instead of shortening it', () => {
    expect(issuesOf([50, 100], 4000)).toEqual([
      {
        path: 'rollout.stepSeconds',
        message:
          'expected at most 3600: SageMaker waits 0–3600 s after each traffic shift (WaitIntervalInSeconds); got 4000',
      },
    ]);
    expect(issuesOf([100], 3601).map((issue) => issue.path)).toEqual(['rollout.stepSeconds']);
  });

  it('refuses waits that do not fit MaximumExecutionTimeoutInSeconds (at most 28800 s), and takes those that do', () => {
    // Ten 10% shifts and the baking period: 11 waits + 600 s ≤ 28800 s holds up to 2563 s.
    expect(Array.isArray(translateRollout(rollout(linearSteps(10), 2563)))).toBe(false);
    expect(issuesOf(linearSteps(10), 2564)).toEqual([
      {
        path: 'rollout.stepSeconds',
        message:
          'expected at most 2563 for [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]: SageMaker ends a blue/green update after MaximumExecutionTimeoutInSeconds (at most 28800), which must exceed its waits — 10 shift(s) × 2564 s plus 2564 s before the old fleet goes = 28204 s — and mlscale keeps 600 s for the new fleet to start',
      },
    ]);
    expect(translateRollout(rollout(linearSteps(10), 2563))).toMatchObject({
      maximumExecutionSeconds: 28_793,
    });
  });

  it('validateSpec lists the same issues, and a split over more than 10 variants', () => {
    expect(sageMakerSpecIssues(spec({ rollout: { steps: [60, 100] } })).map((issue) => issue.path)).toEqual([
      'rollout.steps',
    ]);
    expect(sageMakerSpecIssues(spec({}))).toEqual([]);
    const traffic = Array.from({ length: 11 }, (_, index) => ({
      model: { uri: `s3://b/m${index}.onnx` },
      weight: index === 0 ? 90 : 1,
    }));
    expect(sageMakerSpecIssues(spec({ traffic }))).toEqual([
      {
        path: 'traffic',
        message:
          'expected at most 10 models: a SageMaker endpoint config holds 1–10 production variants; got 11',
      },
    ]);
  });

  it('never builds a DeploymentConfig for what it would refuse', () => {
    expect(() => blueGreenDeploymentConfig(spec({ rollout: { steps: [60, 100] } }), {})).toThrow(
      /Deployment 'demo' cannot run on the aws backend as specified:\n {2}- rollout\.steps: expected a first step of at most 50/,
    );
  });
});
