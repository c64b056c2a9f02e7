import { expect, it } from 'vitest';
import { runQuickstart } from './quickstart.js';

it('the quickstart deploys, predicts over the client and HTTP, scales, reads metrics and deletes', async () => {
  const lines: string[] = [];
  await runQuickstart((line) => lines.push(line));
  expect(lines[0]).toMatch(/^deployed quickstart: InService at http:\/\/127\.0\.0\.1:\d+ on cpu$/);
  const probabilities = lines[1]!.replace('probabilities: ', '').split(', ').map(Number);
  expect(probabilities).toHaveLength(4);
  expect(probabilities[0]! + probabilities[1]!).toBeCloseTo(1, 3);
  // The HTTP answer for the first row equals the client's.
  expect(lines[2]).toBe(`HTTP 200: [${probabilities.slice(0, 2).join(',')}]`);
  expect(lines[3]).toBe('scaled to 2 replicas');
  expect(lines[4]).toBe('invocations so far: 2');
  expect(lines.at(-1)).toBe('deleted quickstart');
}, 60_000);
