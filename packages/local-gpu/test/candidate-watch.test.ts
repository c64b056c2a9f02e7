import { describe, expect, it } from 'vitest';
import { contractDifference, createCandidateWatch, sampleEvery } from '../src/deployments/candidate-watch.js';
import { InferenceError, type InferenceResult } from '../src/deployments/inference-types.js';

const answer = (...outputs: [string, string, number[]][]): InferenceResult => ({
  modelVersion: '1',
  outputs: outputs.map(([name, datatype, shape]) => ({
    name,
    datatype: datatype as 'FP32',
    shape,
    data: new Float32Array(shape.reduce((size, dim) => size * dim, 1)),
  })),
});

const stable = answer(['probabilities', 'FP32', [1, 10]]);

describe('the candidate watch', () => {
  it('shadows every request until the candidate agreed verifyRequests times, then one in sampleEvery', () => {
    let regressions = 0;
    const watch = createCandidateWatch({
      stableLabel: '1',
      candidateLabel: '2',
      verifyRequests: 3,
      onRegression: () => regressions++,
    });
    for (let index = 0; index < 3; index++) {
      expect(watch.state.kind).toBe('verifying');
      expect(watch.shadowNext()).toBe(true);
      watch.compare(stable, { ok: true, result: answer(['probabilities', 'FP32', [1, 10]]) });
    }
    expect(watch.state).toEqual({ kind: 'trusted', sinceSample: 0 });
    const shadowed = Array.from({ length: 3 * sampleEvery }, () => watch.shadowNext()).filter(Boolean);
    expect(shadowed).toHaveLength(3);
    expect(watch.breach).toBeUndefined();
    expect(regressions).toBe(0);
    expect(watch.regressionSummary()).toBeUndefined();
  });

  it("counts a candidate's refusal of a request the stable version answers, not its server-side failures", () => {
    let regressions = 0;
    const watch = createCandidateWatch({
      stableLabel: '1',
      candidateLabel: '2',
      verifyRequests: 20,
      onRegression: () => regressions++,
    });
    watch.compare(stable, {
      ok: false,
      error: new InferenceError(400, "input 'input' expects [-1, 100]", 'x'),
    });
    watch.compare(stable, { ok: false, error: new InferenceError(500, 'worker died', 'internal') });
    watch.compare(stable, { ok: false, error: new InferenceError(400, 'again', 'x') });
    expect(regressions).toBe(2);
    expect(watch.regressionSummary()).toBe(
      "version 2 refused 2 request(s) that version 1 answers (first: 400: input 'input' expects [-1, 100])",
    );
    expect(watch.state).toEqual({ kind: 'verifying', agreed: 0 });
  });

  it('breaches on the first answer in another output contract, and then routes nothing to the candidate', () => {
    const watch = createCandidateWatch({
      stableLabel: '1',
      candidateLabel: '2',
      verifyRequests: 1,
      onRegression: () => {},
    });
    watch.compare(stable, { ok: true, result: answer(['probabilities', 'FP32', [1, 5]]) });
    expect(watch.breach).toBe(
      "version 2 answers with another output contract than version 1: output 'probabilities' is FP32 [1, 5] where it was FP32 [1, 10]",
    );
    expect(watch.shadowNext()).toBe(false);
    // Later answers do not overwrite the first reason.
    watch.compare(stable, { ok: true, result: answer(['scores', 'FP32', [1, 10]]) });
    expect(watch.breach).toMatch(/is FP32 \[1, 5\]/);
  });

  it('tells each difference in what callers parse: a missing, re-typed, re-shaped or new output', () => {
    expect(contractDifference(stable, answer(['probabilities', 'FP32', [1, 10]]))).toBeUndefined();
    expect(contractDifference(stable, answer(['scores', 'FP32', [1, 10]]))).toBe(
      "output 'probabilities' is missing; it answers 'scores'",
    );
    expect(contractDifference(stable, answer(['probabilities', 'FP64', [1, 10]]))).toBe(
      "output 'probabilities' is FP64 [1, 10] where it was FP32 [1, 10]",
    );
    expect(
      contractDifference(stable, answer(['probabilities', 'FP32', [1, 10]], ['logits', 'FP32', [1, 10]])),
    ).toBe("output 'logits' is new; the stable version answers 'probabilities'");
  });
});
