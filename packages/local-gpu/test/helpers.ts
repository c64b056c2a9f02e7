import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { normalFloat32, referenceMlp, seededRandom } from '../src/onnx/index.js';

/** A temporary folder, removed by the returned function. */
export function temporaryFolder(prefix = 'mlscale-local-gpu-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Writes model bytes to `folder/name` and returns the path. */
export function writeModel(folder: string, name: string, bytes: Uint8Array): string {
  const path = join(folder, name);
  writeFileSync(path, bytes);
  return path;
}

/** The reference MLP's answers computed in process by onnxruntime, the values every route must match. */
export async function inProcessReference(
  seed = 7,
): Promise<(input: Float32Array, rows: number) => Promise<Float32Array>> {
  const session = await ort.InferenceSession.create(referenceMlp(seed));
  return async (input, rows) => {
    const result = await session.run({ input: new ort.Tensor('float32', input.slice(), [rows, 784]) });
    return result.probabilities!.data as Float32Array;
  };
}

/** `rows` random input rows for the reference MLP. */
export function referenceInput(seed: number, rows = 1): Float32Array {
  return normalFloat32(seededRandom(seed), rows * 784);
}

/** Asserts two float arrays agree within `tolerance`; returns the largest difference. */
export function maxDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let largest = 0;
  for (let index = 0; index < actual.length; index++) {
    largest = Math.max(largest, Math.abs(actual[index]! - expected[index]!));
  }
  return largest;
}

/** A V2 JSON infer body for the reference MLP. */
export function v2Body(input: Float32Array, rows: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    ...extra,
    inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, 784], data: Array.from(input) }],
  });
}

/** Posts and returns status, headers and the body as text. */
export async function post(
  url: string,
  body: string | Uint8Array,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<{ status: number; headers: Headers; text: string; bytes: Uint8Array }> {
  const response = await fetch(url, { method: 'POST', body, headers });
  const bytes = new Uint8Array(await response.arrayBuffer());
  return {
    status: response.status,
    headers: response.headers,
    text: Buffer.from(bytes).toString('utf8'),
    bytes,
  };
}

/** Sleeps. */
export const delay = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** Polls `check` until it returns true (bounded). */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

/**
 * A steady load on loopback: `concurrency` loops posting `body` until stopped; every status is counted,
 * and every 200's output contract (each output's name, datatype and shape), so a test can tell whether
 * callers got answers of more than one shape.
 */
export function startLoad(
  url: string,
  body: string,
  concurrency = 4,
): { stop(): Promise<Map<number, number>>; readonly sent: number; readonly contracts: Map<string, number> } {
  const statuses = new Map<number, number>();
  const contracts = new Map<string, number>();
  let running = true;
  let sent = 0;
  const loop = async () => {
    while (running) {
      let status: number;
      try {
        const response = await fetch(url, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json' },
        });
        const text = await response.text();
        status = response.status;
        if (status === 200) {
          const contract = answerContract(text);
          contracts.set(contract, (contracts.get(contract) ?? 0) + 1);
        }
      } catch {
        status = 0;
      }
      sent++;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return statuses;
    },
    get sent() {
      return sent;
    },
    contracts,
  };
}

/** A V2 JSON answer's outputs as `name datatype [shape]`, joined: what a caller's parser depends on. */
function answerContract(text: string): string {
  const answer = JSON.parse(text) as { outputs?: { name: string; datatype: string; shape: number[] }[] };
  return (answer.outputs ?? [])
    .map((output) => `${output.name} ${output.datatype} [${output.shape.join(', ')}]`)
    .join('; ');
}
