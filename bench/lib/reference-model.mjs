import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runToCompletion } from './child-processes.mjs';
import { systemPython } from './prerequisites.mjs';

/**
 * The seed's Flask peer (app.py, make_models.py), beside the repository as `../shared/peers/seed-flask`
 * unless MLSCALE_SEED_FLASK_DIR names it.
 *
 * @param {string} repositoryRoot
 */
export function seedFlaskDirectory(repositoryRoot) {
  const directory =
    process.env.MLSCALE_SEED_FLASK_DIR ?? resolve(repositoryRoot, '..', 'shared', 'peers', 'seed-flask');
  for (const file of ['app.py', 'make_models.py']) {
    if (!existsSync(join(directory, file))) {
      throw new Error(
        `the seed's Flask peer is not at ${directory} (no ${file}); set MLSCALE_SEED_FLASK_DIR to its folder`,
      );
    }
  }
  return directory;
}

/**
 * The reference model (MLP 784-512-512-10) as model.onnx and model.pkl with identical weights, written by
 * the seed's make_models.py into a cache folder outside the repository (generated models are never
 * committed). The folder is keyed by the script's hash, so an edited script regenerates them.
 *
 * @param {string} seedDirectory
 * @returns {Promise<{ directory: string, onnxPath: string, picklePath: string }>}
 */
export async function referenceModels(seedDirectory) {
  const script = join(seedDirectory, 'make_models.py');
  const key = createHash('sha256').update(readFileSync(script)).digest('hex').slice(0, 12);
  const directory = join(process.env.MLSCALE_BENCH_CACHE ?? join(tmpdir(), 'mlscale-bench'), `models-${key}`);
  const onnxPath = join(directory, 'model.onnx');
  const picklePath = join(directory, 'model.pkl');
  if (!existsSync(onnxPath) || !existsSync(picklePath)) {
    // Written beside, then renamed, so an interrupted run never leaves half a model behind.
    const partial = `${directory}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    await runToCompletion(systemPython, [script, partial], { cwd: seedDirectory });
    await rm(directory, { recursive: true, force: true });
    await rename(partial, directory);
  }
  return { directory, onnxPath, picklePath };
}
