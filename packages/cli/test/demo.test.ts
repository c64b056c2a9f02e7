import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { DemoReport } from '../src/demo/demo-report.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'mlscale-demo-test-'));

afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('mlscale demo (the built CLI, as a process)', () => {
  it('trains with a spot interruption, deploys, scales under a load ramp and writes its report', async () => {
    expect(existsSync(bin), 'the CLI is not built: run pnpm build first').toBe(true);
    const { stdout, stderr } = await run(
      process.execPath,
      [bin, 'demo', '--quick', '--json', '--out', directory],
      {
        cwd: directory,
        env: { ...process.env, CI: '1' },
        timeout: 180_000,
      },
    );
    const result = JSON.parse(stdout) as {
      ok: boolean;
      report: string;
      data: string;
      summary: DemoReport['summary'];
    };
    expect(result.ok).toBe(true);
    // Progress went to stderr as plain lines (CI), naming each phase.
    for (const phase of ['Training', 'Registering', 'Deploying', 'Load ramp'])
      expect(stderr).toContain(phase);
    expect(stderr).toContain('resumed from the checkpoint of epoch 3');
    expect(stderr).not.toContain('\x1b[');

    const report = JSON.parse(readFileSync(result.data, 'utf8')) as DemoReport;
    const { summary } = report;
    expect(summary.requests).toBeGreaterThan(100);
    expect(summary.errors).toBe(0);
    expect(summary.spotInterruptions).toBe(1);
    expect(summary.peakReplicas).toBeGreaterThan(1);
    expect(summary.peakReplicas).toBeLessThanOrEqual(4);
    expect(summary.finalReplicas).toBeGreaterThanOrEqual(1);
    expect(summary.heldOutAccuracy).toBeGreaterThan(0.8);
    expect(summary.modelAccuracy).toBeGreaterThan(0.8);
    expect(summary.latencyP99Ms).toBeGreaterThanOrEqual(summary.latencyP50Ms);
    expect(summary.device).toBe('cpu');
    expect(summary.deviceReason).toMatch(/CUDA/);
    expect(report.phases.map((phase) => phase.name)).toEqual(['low', 'spike', 'low']);
    expect(report.timeline.length).toBe(12);
    expect(report.timeline.reduce((sum, point) => sum + point.requestsPerSecond, 0)).toBeLessThanOrEqual(
      summary.requests,
    );
    expect(report.events.some((event) => event.kind === 'scale')).toBe(true);

    const html = readFileSync(result.report, 'utf8');
    expect(html).toContain('<svg');
    expect(html.match(/<svg/g)?.length).toBe(3);
    expect(html).toContain(summary.requests.toLocaleString('en-US'));
  }, 200_000);
});
