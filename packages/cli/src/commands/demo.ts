import { join, resolve } from 'node:path';
import { createProgress } from '../demo/progress.js';
import { runDemo } from '../demo/run-demo.js';
import { exitCodes } from './command-context.js';
import { defineCommand } from './define-command.js';

/** `mlscale demo`: the whole story on the local backend, in under a minute, with a report. */
export const demoCommand = defineCommand({
  name: 'demo',
  summary: 'Train, register, deploy with autoscaling and load-test a model locally, then write a report',
  usage: 'mlscale demo [--out DIR] [--quick] [--json]',
  optionHelp: [
    '      --out DIR       where the report and the demo state go (default: .mlscale/demo)',
    '      --quick         shorter load phases (about 12 s instead of 25 s)',
  ],
  examples: [
    'mlscale demo',
    'mlscale demo --quick --json > demo.json',
    'mlscale demo --out /tmp/mlscale-demo',
  ],
  options: {
    out: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
  async run({ values, context, output }) {
    const directory = resolve(context.cwd, values.out ?? join('.mlscale', 'demo'));
    const progress = createProgress({
      // With --json, stdout carries only the result document.
      stream: output.json ? context.stderr : context.stdout,
      env: context.env,
    });
    const { report, htmlPath, jsonPath } = await runDemo({
      directory,
      progress,
      quick: values.quick === true,
      ...(context.signal ? { signal: context.signal } : {}),
    });
    const summary = report.summary;
    if (output.json) {
      output.result({ ok: true, report: htmlPath, data: jsonPath, summary });
    } else {
      const rows: [string, string][] = [
        ['requests', summary.requests.toLocaleString('en-US')],
        ['errors', String(summary.errors)],
        [
          'latency p50 / p99',
          `${summary.latencyP50Ms.toFixed(1)} ms / ${summary.latencyP99Ms.toFixed(1)} ms`,
        ],
        ['replicas peak / final', `${summary.peakReplicas} / ${summary.finalReplicas}`],
        ['device', summary.deviceReason ? `${summary.device} (${summary.deviceReason})` : summary.device],
        [
          'accuracy training / held-out',
          `${(summary.modelAccuracy * 100).toFixed(1)}% / ${(summary.heldOutAccuracy * 100).toFixed(1)}%`,
        ],
        ['spot interruptions', String(summary.spotInterruptions)],
        ['duration', `${summary.durationSeconds.toFixed(1)} s`],
      ];
      const width = Math.max(...rows.map(([label]) => label.length));
      output.line('');
      output.line(output.color.bold('Summary'));
      for (const [label, value] of rows) output.line(`  ${label.padEnd(width)}  ${value}`);
      output.line('');
      output.line(`Report: ${htmlPath}`);
      output.line(`Data:   ${jsonPath}`);
    }
    return exitCodes.ok;
  },
});
