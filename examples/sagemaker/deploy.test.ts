import { expect, it } from 'vitest';
import { runSageMakerExample } from './deploy.js';

it('the SageMaker example runs end to end against the emulator', async () => {
  const lines: string[] = [];
  await runSageMakerExample((line) => lines.push(line));
  expect(lines).toContainEqual(
    expect.stringMatching(/^deployed mnist: InService, 2 instances, autoscaling 2–8$/),
  );
  expect(lines).toContainEqual('prediction sum: [1.5,0.95]');
  expect(lines).toContainEqual(
    expect.stringMatching(/^job Completed: \d+ s trained, \d+ s billed, 1 interruption\(s\)/),
  );
  expect(lines.at(-1)).toBe('deleted mnist (endpoint, endpoint configs, models and autoscaling)');
}, 60_000);
