import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { temporaryProject } from './cli-harness.js';
import { runInProcess } from './in-process.js';

const token = 'sk-cli-TOKEN-51d0e2';
const password = 'pw-cli-PASSWORD-9b77';
const rotated = 'sk-cli-ROTATED-00c4';
const directory = temporaryProject('mlscale-cli-secrets-');
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Every file under `folder`, as text. */
function everything(folder: string): string {
  return readdirSync(folder)
    .map((entry) => join(folder, entry))
    .map((path) => (statSync(path).isDirectory() ? everything(path) : readFileSync(path, 'utf8')))
    .join('\n');
}

it('keeps secrets from the config out of plans, statuses, the state, the audit log and the backend record, and rolls out a changed one', async () => {
  writeFileSync(join(directory, 'model.onnx'), 'the file backend never reads it');
  writeFileSync(
    join(directory, 'mlscale.yaml'),
    `backends:
  test: { provider: file, path: ./cloud.json }
deployments:
  - name: secret-model
    model: { uri: ./model.onnx }
    environment:
      API_TOKEN: \${env:API_TOKEN}
      DATABASE_URL: postgres://app:\${env:DB_PASSWORD}@db.internal/app
      LOG_LEVEL: info
`,
  );
  const run = (args: string[], apiToken = token) =>
    runInProcess(args, { cwd: directory, env: { API_TOKEN: apiToken, DB_PASSWORD: password } });
  const outputs: string[] = [];
  const record = (result: { code: number; stdout: string; stderr: string }) => {
    outputs.push(result.stdout, result.stderr);
    return result;
  };
  expect(record(await run(['plan'])).code).toBe(0);
  expect(record(await run(['apply', '--yes'])).code).toBe(0);
  expect(record(await run(['plan', '--detailed-exitcode'])).code).toBe(0);
  record(await run(['status', '--json']));

  // A new value of the secret is a change: plan shows it (sealed), apply rolls it out.
  const plan = record(await run(['plan', '--json', '--detailed-exitcode'], rotated));
  expect(plan.code).toBe(2);
  const changes = (JSON.parse(plan.stdout) as { changes: { changes: { path: string; after: string }[] }[] })
    .changes[0]!.changes;
  expect(changes.map((change) => change.path)).toEqual(['environment.API_TOKEN']);
  expect(changes[0]!.after).toMatch(/^sealed:hmac-sha256:/);
  expect(record(await run(['apply', '--yes'], rotated)).code).toBe(0);
  expect(record(await run(['plan', '--detailed-exitcode'], rotated)).code).toBe(0);

  const text = [
    ...outputs,
    everything(join(directory, '.mlscale')),
    readFileSync(join(directory, 'cloud.json'), 'utf8'),
  ].join('\n');
  for (const secret of [token, password, rotated]) expect(text, `leaked ${secret}`).not.toContain(secret);
  expect(record(await run(['destroy', '--yes'], rotated)).code).toBe(0);
});
