import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../gpu-check.sh', import.meta.url));
const gpuPresent = spawnSync('sh', ['-c', 'nvidia-smi -L'], { stdio: 'ignore' }).status === 0;
// The script writes the reference model with the seed's make_models.py (Debian's python3-onnx, -sklearn),
// found in ../shared/peers/seed-flask beside the checkout (or $MLSCALE_SEED_FLASK_DIR).
const seedDirectory =
  process.env.MLSCALE_SEED_FLASK_DIR ??
  fileURLToPath(new URL('../../../shared/peers/seed-flask', import.meta.url));
const canWriteModel =
  existsSync(join(seedDirectory, 'make_models.py')) &&
  spawnSync('/usr/bin/python3', ['-c', 'import onnx, sklearn'], { stdio: 'ignore' }).status === 0;

describe('bench/gpu-check.sh', () => {
  const out = mkdtempSync(join(tmpdir(), 'bench-gpu-check-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('is valid bash', () => {
    const result = spawnSync('bash', ['-n', script], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  // On a machine with a GPU the CUDA routes contact package feeds: that run is the script's job, not a test's.
  it.skipIf(gpuPresent || !canWriteModel)(
    'without a GPU, measures CPU, skips the CUDA routes with the reason, and records the WebGPU attempt',
    () => {
      const result = spawnSync('bash', [script], {
        encoding: 'utf8',
        env: { ...process.env, OUT: out, DURATION_MS: '200', BATCHES: '1 4' },
        timeout: 240_000,
      });
      expect(result.status, result.stderr).toBe(0);
      const record = JSON.parse(readFileSync(join(out, 'gpu-check.json'), 'utf8'));
      const routes = new Map(record.routes.map((route: { route: string }) => [route.route, route]));
      const cpu = routes.get('cpu');
      expect(cpu).toMatchObject({ status: 'worked' });
      expect(cpu.measure.figures.map((figure: { batch: number }) => figure.batch)).toEqual([1, 4]);
      for (const figure of cpu.measure.figures) {
        expect(figure.inferencesPerSecond).toBeGreaterThan(0);
        expect(figure.maxDifferenceFromCpu).toBe(0);
      }
      for (const name of ['cuda-install-script', 'cuda-provider-libs', 'cuda-pip-wheel']) {
        expect(routes.get(name)).toMatchObject({
          status: 'skipped',
          reason: expect.stringMatching(/no NVIDIA GPU/),
        });
      }
      // Whether WebGPU finds an adapter depends on the machine's Vulkan drivers; either way it is recorded.
      expect(['worked', 'failed']).toContain(routes.get('webgpu').status);
      expect(readFileSync(join(out, 'gpu-check.md'), 'utf8')).toMatch(/\| cpu \| worked \|/);
      expect(readFileSync(join(out, 'gpu-check.log'), 'utf8')).toContain('route cpu: worked');
    },
    240_000,
  );
});
