import { fileURLToPath } from 'node:url';
import { runToCompletion } from './child-processes.mjs';

const script = fileURLToPath(new URL('../wrk-post.lua', import.meta.url));

/**
 * One wrk run: `connections` keep-alive connections from one wrk thread, each POSTing the body in
 * `bodyPath` back to back for `durationSeconds` (closed loop). Returns requests/s and latency
 * percentiles in milliseconds; `failed` counts non-2xx answers, socket errors and timeouts.
 *
 * @param {{ url: string, bodyPath: string, contentType: string, headerLength?: number,
 *   connections: number, durationSeconds: number }} options
 */
export async function runWrk(options) {
  const stdout = await runToCompletion(
    'wrk',
    [
      '-t1',
      `-c${options.connections}`,
      `-d${options.durationSeconds}s`,
      '--timeout',
      '10s',
      '--latency',
      '-s',
      script,
      options.url,
    ],
    {
      env: {
        ...process.env,
        BODY: options.bodyPath,
        CONTENT_TYPE: options.contentType,
        INFERENCE_HEADER_CONTENT_LENGTH:
          options.headerLength === undefined ? '' : String(options.headerLength),
      },
    },
  );
  return parseWrkOutput(stdout);
}

/**
 * Reads the `WRK_JSON {...}` line that wrk-post.lua prints at the end of a run.
 *
 * @param {string} stdout
 */
export function parseWrkOutput(stdout) {
  const line = stdout.split('\n').find((candidate) => candidate.startsWith('WRK_JSON '));
  if (!line) throw new Error(`wrk printed no WRK_JSON summary:\n${stdout.slice(-2000)}`);
  const summary = JSON.parse(line.slice('WRK_JSON '.length));
  const seconds = summary.durationUs / 1e6;
  const errors = summary.errors;
  return {
    requests: summary.requests,
    seconds,
    requestsPerSecond: summary.requests / seconds,
    failed: errors.connect + errors.read + errors.write + errors.status + errors.timeout,
    errors,
    latencyMs: {
      mean: summary.latencyUs.mean / 1000,
      p50: summary.latencyUs.p50 / 1000,
      p90: summary.latencyUs.p90 / 1000,
      p99: summary.latencyUs.p99 / 1000,
      max: summary.latencyUs.max / 1000,
    },
  };
}
