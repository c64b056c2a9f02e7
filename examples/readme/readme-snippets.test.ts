import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { referenceMlp } from '@mlscale/local-gpu';
import { afterAll, expect, it } from 'vitest';

const examples = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(examples, '..', 'README.md'), 'utf8');
// Under examples/node_modules, so the snippet's imports resolve as they would in a user's project.
const parent = join(examples, 'node_modules', '.cache', 'readme-snippets');
mkdirSync(parent, { recursive: true });
const folder = mkdtempSync(join(parent, 'use-it-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** The first ```ts block after a heading. */
function snippetAfter(heading: string): string {
  const section = readme.slice(readme.indexOf(heading));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error(`no ts snippet after '${heading}' in README.md`);
  return match[1]!;
}

it("README.md's 'Use it' snippet runs as written: deploy, predict, a canary update that keeps autoscaling, logs", async () => {
  writeFileSync(join(folder, 'model.onnx'), referenceMlp(7));
  writeFileSync(join(folder, 'model-v2.onnx'), referenceMlp(8));
  const snippet = snippetAfter('## Use it');
  // What the snippet leaves to the reader: its input, and a signal that stops following the logs
  // 1.5 s after the loop starts listening to it. Then checks.
  const program = `const pixels = Array.from({ length: 784 }, (_, index) => (index % 7) / 7);
const stopFollowing = new AbortController();
const signal = stopFollowing.signal;
const listen = signal.addEventListener.bind(signal);
signal.addEventListener = (...args: Parameters<typeof listen>) => {
  setTimeout(() => stopFollowing.abort(), 1500).unref();
  listen(...args);
};
${snippet}
const status = await mlscale.get('digits');
console.log(JSON.stringify({ answer: answer.outputs[0]?.shape, model: status.spec.model, autoscaling: status.autoscaling, state: status.state, serving: status.servingSpecHash === status.specHash }));
await mlscale.delete('digits');
await mlscale.close();
`;
  writeFileSync(join(folder, 'snippet.mts'), program);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(examples, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'snippet.mts'],
    { cwd: folder, timeout: 120_000 },
  );
  const last = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  expect(last).toEqual({
    answer: [1, 10],
    model: { uri: './model-v2.onnx', format: 'onnx' },
    autoscaling: expect.objectContaining({ minReplicas: 1, maxReplicas: 4 }),
    state: 'InService',
    serving: true,
  });
  // The log loop printed entries of the deployment's requests before the signal ended it.
  expect(stdout).toContain("source: 'request'");
}, 180_000);
