import { expect, it } from 'vitest';
import { runAzureExample } from './deploy.js';

it('the Azure example runs end to end against the emulator', async () => {
  const lines: string[] = [];
  await runAzureExample((line) => lines.push(line));
  expect(lines).toContain('deployed mnist-api: InService, 2 instances, autoscaling 2–6');
  expect(lines).toContain('prediction pixels_row_sum: [1.5,0.95]');
  expect(lines).toContain('canary: mnist-v1 90%, mnist-v2 10%');
  expect(lines).toContain('switched: mnist-v2 100%');
  expect(lines).toContain('invocations in the last hour: 6');
  expect(lines).toContain('job Completed (Completed)');
  expect(lines.at(-1)).toBe('deleted mnist-api (endpoint, deployments and autoscale settings)');
}, 90_000);
