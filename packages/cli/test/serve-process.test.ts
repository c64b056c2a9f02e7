import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { referenceMlp } from '@mlscale/local-gpu';
import { afterAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const built =
  existsSync(bin) && existsSync(fileURLToPath(new URL('../../local-gpu/dist/index.js', import.meta.url)));

// The built `mlscale` as a real process: `pnpm test` builds first; a source-only run skips this file.
describe.skipIf(!built)('mlscale serve as a process', () => {
  const folder = mkdtempSync(join(tmpdir(), 'mlscale-serve-process-'));
  writeFileSync(join(folder, 'digits.onnx'), referenceMlp());
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('prints its URL, serves, and exits 143 (128 + SIGTERM) after draining on SIGTERM', async () => {
    const child = spawn(process.execPath, [bin, 'serve', 'digits.onnx', '--port', '0'], {
      cwd: folder,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    try {
      const [first] = (await once(child.stdout, 'data')) as [Buffer];
      const line = JSON.parse(first.toString().split('\n')[0]!);
      expect(line.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const body = JSON.stringify({
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: new Array(784).fill(0.5) }],
      });
      const response = await fetch(`${line.url}/v2/models/digits/infer`, { method: 'POST', body });
      expect(response.status).toBe(200);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number];
      expect(code).toBe(143);
      expect(stderr).toContain('draining in-flight requests');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('a second SIGTERM while draining is acknowledged, not a kill', async () => {
    const child = spawn(process.execPath, [bin, 'serve', 'digits.onnx', '--port', '0'], {
      cwd: folder,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const draining = new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('draining in-flight requests')) resolve();
      });
    });
    try {
      await once(child.stdout, 'data');
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await draining;
      child.kill('SIGTERM');
      const [code, signal] = (await exited) as [number | null, string | null];
      expect(signal).toBeNull();
      expect(code).toBe(143);
      expect(stderr).toContain('received SIGTERM again; still draining in-flight requests');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
