import { expect, it } from 'vitest';
import { runVertexExample } from './deploy.js';

it('the Vertex example runs end to end against the emulator', async () => {
  const lines: string[] = [];
  await runVertexExample((line) => lines.push(line));
  expect(lines).toContainEqual('deployed mnist: InService, 2 replicas, autoscaling 2–8');
  expect(lines).toContainEqual('prediction predictions: ["0.25","0.25","0.50"]');
  expect(lines).toContainEqual('canary update done: traffic 100% on 1 deployed model(s)');
  // Two predictions land in one minute's bucket, or two when the run crosses a minute boundary.
  expect(lines).toContainEqual(
    expect.stringMatching(/^metric invocations \(average, Count\): [12] bucket\(s\) with data$/),
  );
  expect(lines).toContainEqual(
    expect.stringMatching(
      /^registered model mnist version 1 at gs:\/\/mlscale-demo-models\/mlscale\/artifacts\/[0-9a-f]{64}\/mnist-v2\.onnx$/,
    ),
  );
  expect(lines).toContainEqual(
    '  [workerpool0-0] The spot VM was preempted; the job restarts on new capacity.',
  );
  expect(lines).toContainEqual(
    'job Completed (JOB_STATE_SUCCEEDED), model at gs://mlscale-demo-models/mlscale/jobs/mnist-train/model/',
  );
  expect(lines.at(-1)).toBe('deleted mnist (deployed models, endpoint and uploaded models)');
}, 90_000);
