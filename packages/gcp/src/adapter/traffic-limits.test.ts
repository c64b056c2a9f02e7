import { type DeploymentSpecInput, deploymentSpecSchema, MlscaleError } from '@mlscale/core';
import { describe, expect, it } from 'vitest';
import { assertTrafficExpressible, trafficIssues } from './traffic-limits.js';

const spec = (input: Partial<DeploymentSpecInput>) =>
  deploymentSpecSchema.parse({ name: 'limits', model: { uri: 'gs://b/m.onnx' }, ...input });
const other = { uri: 'gs://b/other.onnx' };

describe("Vertex's traffic_split limits", () => {
  it.each([
    ['the default steps', {}],
    ['[10, 50, 100]', { rollout: { steps: [10, 50, 100] } }],
    ['[60, 100]', { rollout: { steps: [60, 100] } }],
    ['[5, 50, 100]', { rollout: { steps: [5, 50, 100] } }],
    ['[10, 20, 30, 100]', { rollout: { steps: [10, 20, 30, 100] } }],
    ['stepSeconds 4000', { rollout: { steps: [50, 100], stepSeconds: 4000 } }],
    [
      'a 90/10 split',
      {
        traffic: [
          { model: { uri: 'gs://b/m.onnx' }, weight: 90 },
          { model: other, weight: 10 },
        ],
      },
    ],
  ] as const)('accepts %s: every share is a whole percentage', (_, input) => {
    expect(trafficIssues(spec(input as Partial<DeploymentSpecInput>))).toEqual([]);
  });

  it('refuses a fractional step, naming it and what Vertex allows', () => {
    expect(trafficIssues(spec({ rollout: { steps: [10, 12.5, 100] } }))).toEqual([
      {
        path: 'rollout.steps[1]',
        message:
          "expected a whole percentage, got 12.5: Vertex AI's Endpoint.traffic_split takes whole percentages (map<string, int32>) adding up to 100; use 12 or 13",
      },
    ]);
  });

  it('refuses fractional weights, each by its field', () => {
    const split = spec({
      traffic: [
        { model: { uri: 'gs://b/m.onnx' }, weight: 87.5 },
        { model: other, weight: 12.5 },
      ],
    });
    expect(trafficIssues(split).map((issue) => issue.path)).toEqual([
      'traffic[0].weight',
      'traffic[1].weight',
    ]);
    expect(trafficIssues(split)[1]!.message).toMatch(
      /^expected a whole percentage, got 12\.5: .*map<string, int32>/,
    );
    const thrown = (() => {
      try {
        assertTrafficExpressible(split);
      } catch (error) {
        return error;
      }
    })();
    expect(MlscaleError.hasCode(thrown, 'InvalidSpec')).toBe(true);
    expect((thrown as MlscaleError).issues).toEqual(trafficIssues(split));
    expect((thrown as MlscaleError).message).toMatch(
      /^Deployment 'limits' cannot run on the gcp backend as specified:/,
    );
  });
});
